"""The HTTP pass of ``make bench``: the clinic-wide pages of the largest clinic, over HTTP.

For each bench database, ``scripts/serve web`` starts gunicorn as production runs it
(production settings, 2 sync workers, on a free loopback port), and the clinic admin of the
clinic with the most patients (Southbank in the demo: about 15,000 patients and 600
therapists at ``--scale 100``) requests its dashboard and its whole-clinic patient list,
``requests`` times each, in rounds: within a round page by page, each database after the
other, so the machine's load weighs on both scales alike. A request is timed from opening
the connection to the last byte of the page (loopback, ``X-Forwarded-Proto: https`` as the
TLS proxy in front of production sends it, no compression); its size is the page's bytes.

The admin's session is made in the bench's process (``bench.pages.staff_client``, second
factor verified) and handed to the server as its cookie: the bench sets one ``SECRET_KEY``
for both. Targets (issue 20, point 8): at the high scale p95 ≤ 50 ms and ≤ 200 KB, and the
high scale's p95 within 1.5 times the low scale's (the page's time does not grow with the
clinic).
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
WORKERS = 2
TARGET_P95_MS = 50
TARGET_BYTES = 200_000
TARGET_RATIO = 1.5
PRODUCTION_COOKIE = "__Host-sessionid"


@dataclass(frozen=True)
class HttpPage:
    key: str
    label: str
    url_name: str


PAGES = [
    HttpPage("dashboard", "Clinic dashboard", "caseload:dashboard"),
    HttpPage("patient_list", "Patient list, whole clinic (clinic admin)", "patients:list"),
]


@dataclass
class Samples:
    ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)

    def as_dict(self) -> dict:
        ordered = sorted(self.ms)
        return {
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 2),
            "mean_ms": round(statistics.fmean(ordered), 2),
            "requests": len(ordered),
            "bytes": max(self.sizes),
            "statuses": sorted(self.statuses),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(database_url: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.production",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    env.pop("DATABASE_STATEMENT_TIMEOUT", None)  # the production default, not the seed's
    return env


def collect_static(database_url: str) -> None:
    """The static files' manifest the production settings serve from, as the image's build
    makes it (Dockerfile): into ``staticfiles/``, which git ignores."""
    subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=_production_env(database_url),
        check=True,
    )


class Server:
    """gunicorn serving one bench database, as ``scripts/serve web`` starts it."""

    def __init__(self, database_url: str, log: Path):
        self.port = _free_port()
        self.log = log
        env = {
            **_production_env(database_url),
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(WORKERS),
        }
        self.process = subprocess.Popen(  # noqa: S603 - this project's own start script
            ["bash", str(BASE_DIR / "scripts" / "serve"), "web"],  # noqa: S607
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: see {self.log}")
            try:
                status, _ = get(self.port, "/healthz", cookie="")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:g} s: see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def get(port: int, path: str, *, cookie: str) -> tuple[int, bytes]:
    """One GET on a new connection (gunicorn's sync workers close each one), as a browser
    behind the TLS proxy sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Host": "localhost", "X-Forwarded-Proto": "https", "Accept": "text/html"}
        if cookie:
            headers["Cookie"] = f"{PRODUCTION_COOKIE}={cookie}"
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _largest_clinic_admin():
    """The clinic with the most patients and an active clinic admin of it."""
    from django.db.models import Count

    from ipt_clinic.accounts.models import Clinic, Role, User

    clinic = (
        Clinic.objects.annotate(patient_count=Count("patients"))
        .order_by("-patient_count", "pk")
        .first()
    )
    if clinic is None:
        raise RuntimeError("no clinic in the database")
    admin = (
        User.objects.filter(clinic=clinic, role=Role.CLINIC_ADMIN, is_active=True)
        .order_by("pk")
        .first()
    )
    if admin is None:
        raise RuntimeError(f"{clinic.name} has no active clinic admin")
    return clinic, clinic.patient_count, admin


def _session_cookie(admin) -> str:
    from django.conf import settings

    from bench.pages import staff_client

    return staff_client(admin).cookies[settings.SESSION_COOKIE_NAME].value


def database_url(base_url: str, name: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))


def run(*, base_url: str, names: dict, requests: int, use_database, log_dir: Path) -> dict:
    """The HTTP pass over the bench databases ``names`` (scale -> database name); Django is
    set up in this process, and ``use_database(name)`` points it at one of them."""
    from django.urls import reverse

    scales = sorted(names)
    targets: dict = {}
    servers: dict = {}
    started = time.monotonic()
    collect_static(database_url(base_url, names[scales[0]]))
    try:
        for scale in scales:
            use_database(names[scale])
            clinic, patients, admin = _largest_clinic_admin()
            targets[scale] = {
                "clinic": clinic.slug,
                "clinic_name": clinic.name,
                "patients": patients,
                "cookie": _session_cookie(admin),
            }
            log = log_dir / f"gunicorn-{names[scale]}.log"
            servers[scale] = Server(database_url(base_url, names[scale]), log)
        for server in servers.values():
            server.wait()
        paths = {page.key: reverse(page.url_name) for page in PAGES}
        samples = {(scale, page.key): Samples() for scale in scales for page in PAGES}

        def once(scale, page, timed: bool) -> None:
            begun = time.perf_counter()
            status, body = get(
                servers[scale].port, paths[page.key], cookie=targets[scale]["cookie"]
            )
            elapsed = (time.perf_counter() - begun) * 1000
            if status != 200:
                raise RuntimeError(f"{paths[page.key]} answered {status} at scale {scale}")
            if timed:
                sample = samples[(scale, page.key)]
                sample.ms.append(elapsed)
                sample.sizes.append(len(body))
                sample.statuses.add(status)

        for scale in scales:  # warm each worker (and the kept figures) up, untimed
            for page in PAGES:
                for _ in range(3 * WORKERS):
                    once(scale, page, timed=False)
        rounds = max(1, min(10, requests // 10))
        for round_number in range(rounds):
            share = requests // rounds + (1 if round_number < requests % rounds else 0)
            order = scales if round_number % 2 == 0 else scales[::-1]
            for page in PAGES:
                for scale in order:
                    for _ in range(share):
                        once(scale, page, timed=True)
    finally:
        for server in servers.values():
            server.stop()

    low, high = scales[0], scales[-1]
    results: dict = {
        "server": f"gunicorn, {WORKERS} sync workers, production settings, loopback",
        "requests_per_page": requests,
        "seconds": round(time.monotonic() - started, 1),
        "targets": {"p95_ms": TARGET_P95_MS, "bytes": TARGET_BYTES, "ratio": TARGET_RATIO},
        "clinics": {
            str(scale): {key: targets[scale][key] for key in ("clinic", "clinic_name", "patients")}
            for scale in scales
        },
        "pages": [],
    }
    for page in PAGES:
        row = {"key": page.key, "label": page.label}
        for scale in scales:
            row[f"scale_{scale}"] = samples[(scale, page.key)].as_dict()
        top = row[f"scale_{high}"]
        row["p95_ok"] = top["p95_ms"] <= TARGET_P95_MS
        row["bytes_ok"] = top["bytes"] <= TARGET_BYTES
        if low != high:
            ratio = top["p95_ms"] / row[f"scale_{low}"]["p95_ms"]
            row["p95_ratio"] = round(ratio, 2)
            row["ratio_ok"] = ratio <= TARGET_RATIO
        row["pass"] = row["p95_ok"] and row["bytes_ok"] and row.get("ratio_ok", True)
        results["pages"].append(row)
    return results


def main() -> None:
    """Standalone: ``DATABASE_URL=postgres://.../any .venv/bin/python bench/http_pass.py
    --databases NAME_LOW,NAME_HIGH [--requests 100]`` on already seeded databases."""
    import argparse
    import json
    import warnings

    sys.path.insert(0, str(BASE_DIR))
    from bench import run as bench_run

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--databases", required=True, help="low scale's, then high scale's")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    url = bench_run._configure_environment()
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    names = dict(enumerate(args.databases.split(",")))
    figures = run(
        base_url=url,
        names=names,
        requests=args.requests,
        use_database=bench_run._use_database,
        log_dir=BASE_DIR / "bench" / "results",
    )
    bench_run._close_all()
    bench_run._print_http(figures)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
