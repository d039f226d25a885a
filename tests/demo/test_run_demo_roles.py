"""`make run` on PostgreSQL runs with the two roles production runs with: `make migrate`
migrates as the database URL's role (the owner) and sets up the app's own role, and the web
app and the worker connect as that role, without the owner's URL. On a PostgreSQL cluster of
the test's own."""

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.foundation.helpers import free_port, wait_for
from tests.notifications.harness import PostgresCluster

ROOT = Path(__file__).resolve().parents[2]


def _environments(marker: str) -> dict[int, dict[str, str]]:
    """The environment each Python process carrying ``IPT_DEMO_TEST=<marker>`` started with,
    by process id (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pairs = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        # Python processes only: a subshell bash forks keeps the script's first environment.
        if f"IPT_DEMO_TEST={marker}".encode() in pairs and b"python" in _cmdline(entry):
            found[int(entry.name)] = dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
    return found


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_make_run_on_postgresql_runs_the_app_as_its_own_role(redis_url, tmp_path):
    cluster = PostgresCluster().start()
    script = None
    kept = ROOT / "var" / "ipt_demo_roles_app-password"
    kept_before = kept.exists()
    try:
        owner_url = cluster.create_database("ipt_demo_roles")
        port, marker = free_port(), uuid.uuid4().hex
        env = {
            **os.environ,
            "VENV": str(Path(sys.executable).parent.parent),
            "DATABASE_URL": owner_url,
            "REDIS_URL": redis_url,
            "PORT": str(port),
            "IPT_DEMO_TEST": marker,
        }
        for name in ("DJANGO_SETTINGS_MODULE", "MIGRATE_DATABASE_URL", "SITE_URL"):
            env.pop(name, None)
        # make migrate, without reinstalling what the suite already runs on.
        migrated = subprocess.run(
            ["make", "-o", "install", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "Created the app's role ipt_demo_roles_app" in migrated.stdout

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
        # /readyz queries the database: the web app's connection is then open.
        assert wait_for(lambda: _ready(f"http://127.0.0.1:{port}/readyz"), timeout=120), (
            log_path.read_text()
        )
        assert wait_for(lambda: "ready." in log_path.read_text(), timeout=60), log_path.read_text()
        with psycopg.connect(owner_url, autocommit=True) as owner:
            users = owner.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        assert users == [("ipt_demo_roles_app",)]
        # The web app and the worker (with their children), started by the script after it
        # exported the app's URL in place of the owner's.
        password = kept.read_text()
        started = _environments(marker)
        assert len(started) >= 2, "the web app and the worker"
        for environment in started.values():
            assert "MIGRATE_DATABASE_URL" not in environment
            assert environment["DATABASE_URL"].startswith(
                f"postgres://ipt_demo_roles_app:{password}@"
            )
    finally:
        if script is not None and script.poll() is None:
            script.send_signal(signal.SIGINT)
            script.wait(timeout=90)
        cluster.stop()
        if not kept_before:
            kept.unlink(missing_ok=True)
