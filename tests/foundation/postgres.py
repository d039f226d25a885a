"""A throw-away PostgreSQL cluster of a test's own (initdb in a temporary folder, a free
loopback port, trust authentication), which the test may freeze: every process of the
cluster stopped with SIGSTOP, as a hung server is, until ``thaw()``. Only this cluster's
processes are ever signalled."""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .helpers import free_port


def pg_program(name: str) -> str:
    """initdb, pg_ctl or createdb: Debian keeps the server's programs out of the PATH, under
    /usr/lib/postgresql/<version>/bin (the newest is taken)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    program = str(found[0]) if found else shutil.which(name)
    assert program, f"PostgreSQL's {name} is needed (install the postgresql package)"
    return program


class FreezableCluster:
    def __init__(self):
        # Under the system's temporary folder: the server runs as the postgres user when the
        # tests run as root (initdb refuses root), and cannot reach pytest's private tmp_path.
        self.root = Path(tempfile.mkdtemp(prefix="ipt-frozen-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.frozen: list[int] = []

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, text=True)

    def start(self) -> "FreezableCluster":
        if self.as_user:
            shutil.chown(self.root, "postgres")
        self._run(
            pg_program("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            )
        self._run(
            pg_program("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start"
        )
        return self

    def create_database(self, name: str) -> str:
        self._run(
            pg_program("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _processes(self) -> list[int]:
        """The postmaster, then every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
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
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self.as_user,
                    pg_program("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)
