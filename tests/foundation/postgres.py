"""The tests' throw-away PostgreSQL cluster (``tests.notifications.harness.PostgresCluster``)
made freezable: every process of it stopped with SIGSTOP, as a hung server is, until
``thaw()``. Only this cluster's processes are ever signalled."""

import contextlib
import os
import signal
from pathlib import Path

from tests.notifications.harness import PostgresCluster


class FreezableCluster(PostgresCluster):
    def __init__(self):
        super().__init__()
        self.frozen: list[int] = []

    def _processes(self) -> list[int]:
        """The postmaster, then every process it started."""
        postmaster = int((self.dir / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    # /proc/<pid>/stat: "pid (name) state ppid ..."; the name may hold spaces.
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # gone meanwhile
                if int(fields[1]) == postmaster:
                    children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP the postmaster first (so it starts nothing more), then its processes."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)
            self.frozen.append(pid)

    def thaw(self) -> None:
        for pid in self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def stop(self) -> None:
        self.thaw()
        super().stop()
