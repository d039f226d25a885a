"""``make bench``: page timings and query counts at --scale 1 and --scale 100 on PostgreSQL.

For each scale a fresh database (created here, dropped at the end): migrate and
``seed_demo --scale N`` (which ends with VACUUM (ANALYZE)) in a process of their own, then a
CHECKPOINT. Then every key page is requested
in-process through Django's test Client, logged in as the user who would open it, in rounds;
within a round page by page, at both scales one after the other, so that the machine's load
weighs on both scales alike. Prints p50/p95 server time and the SQL query count at both
scales, the ratio, and each figure against its target; adds the dashboard at a large against
a small clinic, the HTTP pass (``bench/http_pass.py``: the largest clinic's dashboard and
patient list from gunicorn with production settings) and the notification figures; writes all
of it to ``bench/results/latest.json``.

    .venv/bin/python bench/run.py [--requests 50] [--scales 1,100] [--keep] [--reuse]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ipt_bench) names the server and a
base name: the run owns ``<name>_s1`` and ``<name>_s100`` (dropped and re-created, so never
give it a name whose databases you want to keep). ``--reuse`` measures the database named
by DATABASE_URL as it is, once.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import secrets
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "latest.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ipt_bench"

sys.path.insert(0, str(BASE_DIR))


def _configure_environment() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/run.py measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.local")
    # Production-like request handling: no debug pages, no SQL logging, second factor on.
    os.environ["DEBUG"] = "false"
    os.environ["MFA_REQUIRED"] = "true"
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The database's time limits stay on (pages run under them as in production), but long
    # enough for the ANALYZE and CHECKPOINT this process runs after a scale-100 seed.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "120")
    # One signing key for this process and the servers of the HTTP pass (bench/http_pass.py),
    # which take the sessions made here.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    return url


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _recreate_database(url: str, name: str) -> None:
    """Drop and create a bench database, through the server's maintenance database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


_PARKED: dict = {}  # database name -> its connection while another database is measured


def _use_database(name: str) -> None:
    """Point Django's default connection at another of the bench databases. Each database
    keeps a connection of its own across the alternating rounds, as a served app keeps its
    connection (CONN_MAX_AGE): closing it at every round made each round's first requests pay
    for connecting, loading PostgreSQL's catalog caches and planning statements again."""
    from django.db import connections

    current = connections["default"]
    if current.settings_dict["NAME"] == name:
        return
    _PARKED[current.settings_dict["NAME"]] = current
    wrapper = _PARKED.pop(name, None)
    if wrapper is None:
        wrapper = type(current)({**current.settings_dict, "NAME": name}, "default")
    connections["default"] = wrapper


def _close_all() -> None:
    from django.db import connections

    connections.close_all()
    for wrapper in _PARKED.values():
        wrapper.close()
    _PARKED.clear()


def _load_optional(name: str):
    """bench/<name>.py written by another area, if it is there."""
    path = BASE_DIR / "bench" / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed(url: str, name: str, scale: int) -> float:
    """Migrate and seed in a process of its own, as an operator would (``manage.py``): the
    process that measures the pages then holds what a freshly started server holds, not the
    hundreds of thousands of objects the seeding made. A CHECKPOINT afterwards writes the
    bulk load's dirty pages out now, so the server's background writers are not busy with
    them while the pages are timed."""
    from django.db import connection

    parts = urlsplit(url)
    env = {**os.environ, "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    started = time.monotonic()
    for command in (["migrate", "--verbosity", "0"], ["seed_demo", "--scale", str(scale)]):
        subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py  # nosec B603
            [sys.executable, str(BASE_DIR / "manage.py"), *command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("CHECKPOINT")
    return time.monotonic() - started


class PageRun:
    """The key pages on one database: its cast, its logged-in clients, the timings so far."""

    def __init__(self):
        self.cast = None
        self.clients: dict = {}
        self.timings: dict = {}
        self.failures: dict = {}

    def _client_for(self, who: str):
        from bench.pages import NotAvailable, portal_client, staff_client

        if who not in self.clients:
            if who == "portal":
                self.clients[who] = portal_client(self.cast.portal_patient)
            else:
                user = getattr(self.cast, who)
                if user is None:
                    raise NotAvailable(f"no {who} in the seeded data")
                self.clients[who] = staff_client(user)
        return self.clients[who]

    def measure(self, page, share: int) -> None:
        """``share`` more timed requests of ``page`` (the first time also warms it up and
        counts its queries)."""
        from bench.pages import NotAvailable, find_cast, merge, time_page

        if page.key in self.failures:
            return
        if self.cast is None:
            self.cast = find_cast()
        try:
            client = self._client_for(page.user)
            if page.key in self.timings:
                later = time_page(page, client, self.cast, share, warmup=0)
                self.timings[page.key] = merge(self.timings[page.key], later)
            else:
                self.timings[page.key] = time_page(page, client, self.cast, share)
        except NotAvailable as reason:
            self.failures[page.key] = str(reason)
        except Exception as error:  # noqa: BLE001 - one broken page must not stop the run
            self.failures[page.key] = f"error: {type(error).__name__}: {error}"

    def results(self) -> dict:
        from bench.pages import PAGES

        results = {}
        for page in PAGES:
            if page.key in self.failures:
                results[page.key] = {"not_available": self.failures[page.key]}
                print(f"    {page.label:<34} not available: {self.failures[page.key]}")
                continue
            timing = self.timings[page.key]
            results[page.key] = timing.as_dict()
            slowest = timing.slowest[0]["ms"] if timing.slowest else 0
            print(f"    {page.label:<34} p50 {timing.p50_ms:7.1f} ms  p95 {timing.p95_ms:7.1f} ms  "
                  f"{timing.queries:3d} queries, {timing.sql_ms:5.1f} ms in SQL (slowest {slowest:.1f})")  # fmt: skip
        return results


def _counts() -> dict:
    from demo.clinics import SUMMARY_HEADER, summary_rows

    total = summary_rows()[-1]
    return dict(zip(SUMMARY_HEADER[1:], (int(v) for v in total[1:]), strict=True))


def _clinic_sizes() -> dict:
    from patients.models import Patient

    return {
        slug: Patient.objects.filter(clinic__slug=slug).count()
        for slug in ("demo-northgate", "demo-southbank", "demo-lakeside")
    }


def _dashboard_pair(requests: int) -> dict:
    """The clinic dashboard for the large clinic (about 5,000 patients at scale 100) and the
    small one (about 50), by the same method as the pages; bench/dashboard.py if present."""
    module = _load_optional("dashboard")
    if module is not None and hasattr(module, "run"):
        return module.run(requests=requests)
    from bench.pages import PAGES_BY_KEY, NotAvailable, find_cast, staff_client, time_page

    cast = find_cast()
    sizes = _clinic_sizes()
    figures = {}
    for label, user, slug in (("large", cast.admin, "demo-northgate"),
                              ("small", cast.small_admin, "demo-lakeside")):  # fmt: skip
        try:
            if user is None:
                raise NotAvailable("no clinic admin for the small clinic")
            timing = time_page(PAGES_BY_KEY["dashboard"], staff_client(user), cast, requests)
            figures[label] = {"patients": sizes[slug], **timing.as_dict()}
        except NotAvailable as reason:
            figures[label] = {"patients": sizes[slug], "not_available": str(reason)}
    if "p95_ms" in figures.get("large", {}) and "p95_ms" in figures.get("small", {}):
        figures["p95_ratio"] = round(figures["large"]["p95_ms"] / figures["small"]["p95_ms"], 2)
    return figures


def _http_pass(url: str, names: dict, requests: int) -> dict:
    """bench/http_pass.py: the largest clinic's dashboard and patient list over HTTP
    (gunicorn, production settings), on every bench database."""
    from bench import http_pass

    try:
        return http_pass.run(
            base_url=url,
            names=names,
            requests=requests,
            use_database=_use_database,
            log_dir=RESULTS.parent,
        )
    except Exception as error:  # noqa: BLE001 - reported, the other figures still count
        return {"not_available": f"error: {type(error).__name__}: {error}"}


def _print_http(figures: dict) -> None:
    if "pages" not in figures:
        print(f"HTTP pass: not available ({figures.get('not_available')})")
        return
    print(f"HTTP pass ({figures['server']}):")
    for row in figures["pages"]:
        cells = [
            f"s{key.removeprefix('scale_')} p50 {value['p50_ms']:.1f} p95 {value['p95_ms']:.1f} "
            f"{value['bytes'] / 1000:.0f} KB"
            for key, value in row.items()
            if key.startswith("scale_")
        ]
        ratio = f"ratio {row['p95_ratio']:.2f}" if "p95_ratio" in row else ""
        print(f"  {row['label']:<44} {'; '.join(cells)} {ratio} -> {_mark(row['pass'])}")


def _notifications(count: int | None):
    """bench/notifications.py's figures (outbox claim rate, delivery through real workers),
    measured on the scale-100 database after the pages."""
    module = _load_optional("notifications")
    if module is None or not callable(getattr(module, "run", None)):
        return {"not_available": "bench/notifications.py (with run()) is not there"}
    try:
        return module.run(count=count) if count else module.run()
    except Exception as error:  # noqa: BLE001 - reported, the page figures still count
        return {"not_available": f"error: {type(error).__name__}: {error}"}


def _verdicts(pages, scale_results: dict, low: int, high: int) -> list[dict]:
    rows = []
    for page in pages:
        a = scale_results.get(low, {}).get("pages", {}).get(page.key, {})
        b = scale_results.get(high, {}).get("pages", {}).get(page.key, {})
        row = {"key": page.key, "label": page.label, "target_p95_ms": page.target_ms,
               "target_ratio": page.target_ratio, f"scale_{low}": a, f"scale_{high}": b}  # fmt: skip
        if "p95_ms" in a and "p95_ms" in b:
            ratio = b["p95_ms"] / a["p95_ms"] if a["p95_ms"] else None
            row["p95_ratio"] = round(ratio, 2) if ratio else None
            row["p95_ok"] = b["p95_ms"] <= page.target_ms
            row["ratio_ok"] = ratio is not None and ratio <= page.target_ratio
            row["queries_equal"] = a["queries"] == b["queries"]
            row["pass"] = row["p95_ok"] and row["ratio_ok"] and row["queries_equal"]
        rows.append(row)
    return rows


def _overall(rows: list[dict], dashboard: dict, notifications: dict, http: dict) -> dict:
    """Which targets the run met, in one place (the tables give each figure)."""
    measured = [row for row in rows if "pass" in row]
    return {
        "pages_measured": len(measured),
        "pages_not_measured": [row["key"] for row in rows if "pass" not in row],
        "pages_failed": [row["key"] for row in measured if not row["pass"]],
        "dashboard_by_clinic_size_pass": (
            bool(dashboard.get("p95_ok") and dashboard.get("ratio_ok"))
            if "p95_ratio" in dashboard
            else None
        ),
        "notifications_pass": notifications.get("pass"),
        "http_pass": all(row["pass"] for row in http["pages"]) if "pages" in http else None,
    }


def _mark(ok) -> str:
    return "-" if ok is None else ("pass" if ok else "FAIL")


def _print_table(rows: list[dict], low: int, high: int) -> None:
    header = (f"{'page':<30} {'s' + str(low) + ' p50':>8} {'p95':>7} {'q':>4}   "
              f"{'s' + str(high) + ' p50':>9} {'p95':>7} {'q':>4}   {'ratio':>5}  "
              f"{'target':>12}  p95   ratio queries")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        a, b = row[f"scale_{low}"], row[f"scale_{high}"]
        if "p95_ms" not in a or "p95_ms" not in b:
            reason = b.get("not_available") or a.get("not_available") or "not measured"
            print(f"{row['label']:<30} not available ({reason})")
            continue
        target = f"<={row['target_p95_ms']:g}ms x{row['target_ratio']:g}"
        print(f"{row['label']:<30} {a['p50_ms']:8.1f} {a['p95_ms']:7.1f} {a['queries']:4d}   "
              f"{b['p50_ms']:9.1f} {b['p95_ms']:7.1f} {b['queries']:4d}   {row['p95_ratio']:5.2f}  "
              f"{target:>12}  {_mark(row['p95_ok']):<5} {_mark(row['ratio_ok']):<5} "
              f"{_mark(row['queries_equal'])}")  # fmt: skip


def _machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--scales", default="1,100", help="two scales, low first (default 1,100)")
    parser.add_argument(
        "--notification-count",
        type=int,
        default=int(os.environ.get("BENCH_NOTIFICATIONS_COUNT", 10_000)),
        help="notifications sent through bench/notifications.py (default BENCH_NOTIFICATIONS_COUNT "
        "or 10,000; its standalone 100,000 takes a long time on two cores)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where the figures go (default bench/results/latest.json, which the README's "
        "tables are made from by bench/report.py; reuse.json with --reuse)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database as it is (already seeded), once: no drop, no seed",
    )
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    if args.reuse:
        scales = scales[-1:]
    url = _configure_environment()

    import django

    # WhiteNoise warns that collectstatic has not run: the bench serves no static files.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    # As the served app does once loaded (ipt_clinic/wsgi.py): what is loaded by now stays
    # out of the garbage collector's full passes.
    gc.collect()
    gc.freeze()

    from bench.pages import PAGES

    started = datetime.now(UTC)
    base = _database_name(url)
    names = {scale: base if args.reuse else f"{base}_s{scale}" for scale in scales}
    results: dict = {"started_at": started.isoformat(), "requests_per_page": args.requests,
                     "databases": names, "scales": {}}  # fmt: skip
    for scale in scales:
        print(f"== scale {scale}: database {names[scale]}")
        if args.reuse:
            _use_database(names[scale])
            seconds = 0.0
        else:
            _recreate_database(url, names[scale])
            _use_database(names[scale])
            seconds = _seed(url, names[scale], scale)
        counts = _counts()
        print(f"   seeded in {seconds:.0f} s: {counts}")
        results["scales"][scale] = {
            "seed_seconds": round(seconds, 1),
            "counts": counts,
            "clinics": _clinic_sizes(),
        }
        if "machine" not in results:
            results["machine"] = _machine()

    # Both scales are measured in alternating rounds, so a change in the machine's load
    # during the run weighs on both alike and the ratios compare like with like.
    runs = {scale: PageRun() for scale in scales}
    rounds = max(1, min(10, args.requests // 10))
    results["rounds"] = rounds
    results["load_average_before_pages"] = [round(v, 2) for v in os.getloadavg()]
    for round_number in range(rounds):
        share = args.requests // rounds + (1 if round_number < args.requests % rounds else 0)
        # Page by page, both scales one after the other (the first of the two changing from
        # round to round): a page's two figures are taken seconds apart, not a round apart.
        order = scales if round_number % 2 == 0 else scales[::-1]
        for page in PAGES:
            for scale in order:
                _use_database(names[scale])
                runs[scale].measure(page, share)
    results["load_average_after_pages"] = [round(v, 2) for v in os.getloadavg()]
    for scale in scales:
        print(f"== pages at scale {scale}")
        _use_database(names[scale])
        results["scales"][scale]["pages"] = runs[scale].results()

    high_entry = results["scales"][max(scales)]
    _use_database(names[max(scales)])
    print("== clinic dashboard, large clinic against small clinic")
    high_entry["dashboard_by_clinic_size"] = _dashboard_pair(args.requests)
    print(f"   {high_entry['dashboard_by_clinic_size']}")
    print("== HTTP pass: the largest clinic's dashboard and patient list over gunicorn")
    results["http"] = _http_pass(url, names, args.requests)
    _print_http(results["http"])
    print("== notifications")
    high_entry["notifications"] = _notifications(args.notification_count)
    print(f"   {high_entry['notifications']}")
    _close_all()
    if not (args.keep or args.reuse):
        for name in names.values():
            _drop_database(url, name)

    low, high = min(scales), max(scales)
    rows = _verdicts(PAGES, results["scales"], low, high)
    results["pages"] = rows
    dashboard = results["scales"][high].get("dashboard_by_clinic_size", {})
    if "p95_ratio" in dashboard:
        dashboard["p95_ok"] = dashboard["large"]["p95_ms"] <= 150
        dashboard["ratio_ok"] = dashboard["p95_ratio"] <= 3
    results["finished_at"] = datetime.now(UTC).isoformat()

    print()
    print(f"Server time per page (ms, {args.requests} requests each; q = SQL queries per request)")
    _print_table(rows, low, high)
    if "p95_ratio" in dashboard:
        large, small = dashboard["large"], dashboard["small"]
        print(f"Clinic dashboard: {large['patients']} patients p50 {large['p50_ms']:.1f} p95 "
              f"{large['p95_ms']:.1f} ({large['queries']} q); {small['patients']} patients p50 "
              f"{small['p50_ms']:.1f} p95 {small['p95_ms']:.1f} ({small['queries']} q); ratio "
              f"{dashboard['p95_ratio']:.2f} -> p95 {_mark(dashboard['p95_ok'])}, "
              f"ratio {_mark(dashboard['ratio_ok'])} (targets 150 ms, 3x)")  # fmt: skip
    _print_http(results.get("http", {}))
    print(f"Machine: {results['machine']}")
    results["verdict"] = _overall(
        rows, dashboard, high_entry.get("notifications", {}), results.get("http", {})
    )
    print(f"Verdict: {results['verdict']}")
    target = args.output or (RESULTS.with_name("reuse.json") if args.reuse else RESULTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Written: {target}")
    if target == RESULTS:
        print("Publish its tables (README.md, bench/README.md): .venv/bin/python bench/report.py")


if __name__ == "__main__":
    main()
