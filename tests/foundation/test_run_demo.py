"""`make run`'s last step, scripts/run-demo.sh: the web app and a Celery worker with beat come
up, and Ctrl-C (SIGINT to the script) stops every process it started."""

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from .helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _processes_marked(marker: str) -> list[int]:
    """Processes whose environment carries ``IPT_DEMO_TEST=<marker>`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"IPT_DEMO_TEST={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_it_starts_web_and_worker_and_stops_both_on_ctrl_c(redis_url, tmp_path):
    port = free_port()
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        "PORT": str(port),
        "VENV": str(Path(sys.executable).parent.parent),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "REDIS_URL": redis_url,
        "IPT_DEMO_TEST": marker,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the demo's own default (local settings)
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        script = subprocess.Popen(
            ["bash", "scripts/run-demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=60), (
            log_path.read_text()
        )
        assert wait_for(lambda: "ready." in log_path.read_text(), timeout=30), (
            "the Celery worker never said it was ready:\n" + log_path.read_text()
        )
        started = _processes_marked(marker)
        assert len(started) >= 3, f"expected the script, the web app and the worker: {started}"

        script.send_signal(signal.SIGINT)
        # Seconds on a quiet machine; over 30 once with the machine's two cores shared by
        # several test runs (the run in random order that found it).
        assert script.wait(timeout=90) == 130
        assert wait_for(lambda: not _processes_marked(marker), timeout=10), (
            f"left running after Ctrl-C: {_processes_marked(marker)}\n{log_path.read_text()}"
        )
        assert not _answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        for pid in _processes_marked(marker):
            os.kill(pid, signal.SIGKILL)
