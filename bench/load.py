"""`make load`: a bounded load run with a database fault in the middle.

It starts everything it uses and stops only that: its own PostgreSQL cluster (initdb in a
temporary folder, a free loopback port), its own redis-server, gunicorn serving the app and a
Celery worker with beat. Locust then runs headless (100 users: 70% therapists, 20% patients
in the portal, 10% clinic admins) for a bounded time; part-way through, PostgreSQL is
restarted. Afterwards it checks that every failed request was a 503 (no server error, no
unexpected client error, no dropped connection) and that every write acknowledged with a
2xx/3xx is in the database, prints the figures and writes
them to bench/results/load.json.

    python bench/load.py [--users 100] [--run-time 180] [--scale 10] [--restart-at 80]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if not candidates:
        raise SystemExit(f"PostgreSQL's {name} was not found (install postgresql)")
    return str(candidates[0])


class Cluster:
    """A throw-away PostgreSQL cluster owned by this run."""

    def __init__(self, root: Path):
        self.dir = root / "pg"
        self.sock = root / "pgsock"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], check=check, capture_output=True, text=True)

    def init(self) -> None:
        self.sock.mkdir()
        if self.as_user:
            shutil.chown(self.dir.parent, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run(
            pg_bin("initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        conf = self.dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sock}'\nmax_connections = 200\n"
                "shared_buffers = 256MB\nfsync = on\nsynchronous_commit = on\n"
            )

    def start(self) -> None:
        self._run(
            pg_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.dir / "log.txt"), "-w", "start"
        )

    def restart(self) -> float:
        started = time.monotonic()
        self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.dir),
            "-m",
            "fast",
            "-w",
            "restart",
            "-l",
            str(self.dir / "log.txt"),
        )
        return time.monotonic() - started

    def stop(self) -> None:
        if (self.dir / "postmaster.pid").exists():
            self._run(
                pg_bin("pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop", check=False
            )

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own fixed commands
        cmd,
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def manage(env: dict, *args: str) -> str:
    out = subprocess.run(  # noqa: S603
        [str(VENV_BIN / "python"), "manage.py", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


PREPARE = """
import json, sys
from ipt_clinic.accounts.models import Role, User
from patients.models import Patient
from patients.portal_links import portal_link_create

password = sys.argv[1]
clinic_id = (
    Patient.objects.values("clinic_id").order_by().annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    .order_by("-n").first()["clinic_id"]
)
staff = {"therapists": [], "admins": []}
for user in User.objects.filter(clinic_id=clinic_id, is_active=True).order_by("id"):
    if user.role == Role.THERAPIST and len(staff["therapists"]) < 20 and user.patients.exists():
        staff["therapists"].append(user.username)
    elif user.role == Role.CLINIC_ADMIN and len(staff["admins"]) < 3:
        staff["admins"].append(user.username)
    else:
        continue
    user.set_password(password)
    user.save(update_fields=["password"])
tokens = []
for patient in Patient.objects.filter(clinic_id=clinic_id, courses__status="active").order_by("id")[:40]:
    link, url = portal_link_create(patient=patient, by=patient.primary_therapist)
    tokens.append(url)
print(json.dumps({"clinic_id": clinic_id, "staff": staff, "portal_urls": tokens}))
"""


def read_stats(prefix: Path) -> dict:
    stats = {}
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as fh:
        for row in csv.DictReader(fh):
            stats[row["Name"]] = row
    failures = []
    failures_file = prefix.parent / f"{prefix.name}_failures.csv"
    if failures_file.exists():
        with failures_file.open() as fh:
            failures = list(csv.DictReader(fh))
    return {"stats": stats, "failures": failures}


def verify_writes(env: dict, ack_file: Path) -> dict:
    """Every write the server acknowledged must be in the database after the run."""
    markers = (
        [line.strip() for line in ack_file.read_text().splitlines() if line.strip()]
        if ack_file.exists()
        else []
    )
    life_events = [m.split(":", 1)[1] for m in markers if m.startswith("life_event:")]
    measures = [int(m.split(":", 1)[1]) for m in markers if m.startswith("measure:")]
    marker_file = ack_file.with_suffix(".json")
    marker_file.write_text(json.dumps({"life_events": life_events, "measures": measures}))
    script = (
        "import json\n"
        "from patients.models import LifeEvent\n"
        "from sessions.models import Measure\n"
        f"wanted = json.load(open({str(marker_file)!r}))\n"
        "found = set(LifeEvent.objects.filter(description__in=wanted['life_events']).values_list('description', flat=True))\n"
        "found_m = set(Measure.objects.filter(pk__in=wanted['measures'], entered_by_kind='patient').values_list('pk', flat=True))\n"
        "missing = [f'life_event:{d}' for d in wanted['life_events'] if d not in found]\n"
        "missing += [f'measure:{m}' for m in wanted['measures'] if m not in found_m]\n"
        "print(json.dumps(missing))\n"
    )
    missing = json.loads(manage(env, "shell", "-c", script).strip().splitlines()[-1])
    return {
        "acknowledged": len(markers),
        "acknowledged_life_events": len(life_events),
        "acknowledged_self_reports": len(measures),
        "missing": missing,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", type=int, default=180, help="seconds")
    parser.add_argument(
        "--restart-at", type=int, default=80, help="seconds into the run; 0 for no restart"
    )
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ipt-load-"))
    cluster = Cluster(tmp)
    redis_port, web_port = free_port(), free_port()
    procs: dict[str, subprocess.Popen] = {}
    try:
        print(f"load: work folder {tmp}")
        cluster.init()
        cluster.start()
        subprocess.run(
            [
                pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                "ipt_load",
            ],
            check=True,
        )  # noqa: S603
        procs["redis"] = start(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            dict(os.environ),
            tmp / "redis.log",
        )
        password = secrets.token_urlsafe(12)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": cluster.url("ipt_load"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MFA_REQUIRED": "false",
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "EMAIL_URL": "consolemail://",
            "LOGIN_THROTTLE_PER_ADDRESS": "100000",
            "LOGIN_THROTTLE_PER_ACCOUNT": "100000",
            "CONN_MAX_AGE": "60",
        }
        print(f"load: migrating and seeding --scale {args.scale} on PostgreSQL :{cluster.port}")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--scale", str(args.scale))
        prepared = json.loads(
            manage(env, "shell", "-c", f"import sys; sys.argv=['x', {password!r}]\n" + PREPARE)
            .strip()
            .splitlines()[-1]
        )
        # The production processes (scripts/serve), over plain HTTP on loopback.
        serve_env = {
            **env,
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            "LOG_LEVEL": "WARNING",
        }
        procs["web"] = start(
            ["bash", "scripts/serve", "web"],
            {**serve_env, "BIND": f"127.0.0.1:{web_port}", "WEB_CONCURRENCY": str(args.workers)},
            tmp / "gunicorn.log",
        )
        procs["worker"] = start(
            ["bash", "scripts/serve", "worker"],
            {**serve_env, "CELERY_CONCURRENCY": "1"},
            tmp / "worker.log",
        )
        procs["beat"] = start(
            ["bash", "scripts/serve", "beat"],
            {**serve_env, "CELERY_BEAT_SCHEDULE_FILE": str(tmp / "beat-schedule")},
            tmp / "beat.log",
        )
        wait_http(f"http://127.0.0.1:{web_port}/readyz")
        ack_file = tmp / "acked.txt"
        locust_env = {
            **env,
            "LOAD_PASSWORD": password,
            "LOAD_THERAPISTS": ",".join(prepared["staff"]["therapists"]),
            "LOAD_ADMINS": ",".join(prepared["staff"]["admins"]),
            "LOAD_PORTAL_URLS": "\n".join(prepared["portal_urls"]),
            "LOAD_ACK_FILE": str(ack_file),
        }
        restart_info: dict = {}

        def restart_later() -> None:
            time.sleep(args.restart_at)
            print(f"load: restarting PostgreSQL at +{args.restart_at} s")
            restart_info["at_seconds"] = args.restart_at
            restart_info["took_seconds"] = round(cluster.restart(), 2)
            print(f"load: PostgreSQL back after {restart_info['took_seconds']} s")

        if args.restart_at:
            threading.Thread(target=restart_later, daemon=True).start()
        prefix = tmp / "locust"
        print(
            f"load: locust {args.users} users for {args.run_time} s against http://127.0.0.1:{web_port}"
        )
        subprocess.run(  # noqa: S603
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{args.run_time}s",
                "--host",
                f"http://127.0.0.1:{web_port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ],
            env=locust_env,
            cwd=ROOT,
            check=True,
        )
        stats = read_stats(prefix)
        writes = verify_writes(env, ack_file)
        total = stats["stats"].get("Aggregated", {})
        server_errors = [
            f
            for f in stats["failures"]
            if "50" in f.get("Error", "") and "503" not in f.get("Error", "")
        ]
        unavailable = [f for f in stats["failures"] if "503" in f.get("Error", "")]
        # "503 at worst": a reset or refused connection is as much a failure as a 500.
        dropped = [
            f
            for f in stats["failures"]
            if any(
                word in f.get("Error", "")
                for word in (
                    "ConnectionReset",
                    "ConnectionRefused",
                    "RemoteDisconnected",
                    "ConnectionError",
                )
            )
        ]
        # "503 at worst": anything else a user saw fail (a 500, an unexpected 4xx such as a
        # session interrupted by the restart, a dropped connection) fails the run.
        other_failures = [f for f in stats["failures"] if f not in unavailable]
        result = {
            "users": args.users,
            "run_time_s": args.run_time,
            "scale": args.scale,
            "requests": int(total.get("Request Count", 0)),
            "failures": int(total.get("Failure Count", 0)),
            "rps": float(total.get("Requests/s", 0) or 0),
            "p50_ms": float(total.get("50%", 0) or 0),
            "p95_ms": float(total.get("95%", 0) or 0),
            "server_errors_non_503": sum(int(f["Occurrences"]) for f in server_errors),
            "responses_503": sum(int(f["Occurrences"]) for f in unavailable),
            "dropped_connections": sum(int(f["Occurrences"]) for f in dropped),
            "failures_other_than_503": sum(int(f["Occurrences"]) for f in other_failures),
            "postgres_restart": restart_info,
            "writes": writes,
            "per_page_p95_ms": {
                name: float(row.get("95%", 0) or 0)
                for name, row in stats["stats"].items()
                if name != "Aggregated"
            },
            "failure_detail": stats["failures"],
        }
        (RESULTS / "load.json").write_text(json.dumps(result, indent=2))
        print(
            json.dumps({k: v for k, v in result.items() if k not in ("failure_detail",)}, indent=2)
        )
        ok = (
            result["failures_other_than_503"] == 0
            and not writes["missing"]
            and result["requests"] > 0
        )
        print("load: PASS" if ok else "load: FAIL")
        return 0 if ok else 1
    finally:
        for name in ("web", "worker", "beat", "redis"):
            stop(procs.get(name))
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
