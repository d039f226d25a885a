"""Notification throughput on PostgreSQL and Redis, counted at a real SMTP receiver.

    .venv/bin/python bench/notifications.py [--count 100000] [--workers 1] [--concurrency 4]

1. ``count`` due notifications are written straight into the outbox.
2. Claim and enqueue: the dispatcher (``notifications_dispatch_due``) claims them in batches
   and publishes one send task per row to a private redis-server — timed in this process.
3. Delivery: Celery workers (subprocesses) send them to an SMTP receiver on a free port; the
   rate runs from the first message the receiver accepts to the last. By default the workers
   are the production shape (``scripts/serve worker``: one worker, ``CELERY_CONCURRENCY``
   pool processes, 4).
4. Ceiling: the same workers on the same broker run as many no-op tasks
   (``ipt_clinic.ping``); the rate runs from the first task taken to the queue's end. It is
   measured before the claim and after the delivery, and the two rates averaged.
5. The receiver's counts per Message-ID give duplicates and lost messages.
6. A worker killed mid-burst: ``kill_count`` more rows (default 10,000) delivered by the same
   shape on the production timings (lease, sweep interval, a beat running the sweeper);
   when a third has arrived the worker is killed (SIGKILL to the whole process group) and a
   new one started. Targets: at most 1 duplicate in 1,000, none lost, and the rows the dead
   worker held back within a minute of the kill.

Standalone, DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ipt_bench_notifications)
names a database this script owns: it is dropped, created, migrated and dropped again (keep it
with --keep). ``run()`` is what ``bench/run.py`` calls: it uses the database already set up
(BENCH_NOTIFICATIONS_COUNT sets a smaller count there).
Results go to ``bench/results/notifications.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "notifications.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ipt_bench_notifications"
TARGET_CLAIM_RATE = 5000

sys.path.insert(0, str(BASE_DIR))


def _point_celery_at(broker: str) -> None:
    """Make this process publish to ``broker`` (the private redis-server). Called before the
    process publishes anything: Celery makes its connection pool at the first publish, for
    the broker configured then, and has no public way to swap it afterwards."""
    from ipt_clinic.celery import app

    app.conf.broker_url = broker
    app.conf.broker_transport_options = {}


def _cast(label: str = ""):
    from django.utils import timezone

    from ipt_clinic.accounts.models import Clinic, Role, User
    from patients.models import Patient
    from phases.models import TreatmentCourse
    from sessions.models import TherapySession

    stamp = f"{label}{os.getpid()}-{int(time.time())}"
    clinic = Clinic.objects.create(name="Bench Clinic", slug=f"bench-notifications-{stamp}")
    therapist = User.objects.create(
        username=f"bench-{stamp}", email=f"bench-{stamp}@example.org", clinic=clinic,
        role=Role.THERAPIST,
    )  # fmt: skip
    patient = Patient.objects.create(
        clinic=clinic, primary_therapist=therapist, record_number=f"B-{stamp}",
        first_name="Robin", last_name="Bench", email="robin@example.org",
        reminder_consent=True, reminder_consent_at=timezone.now(),
    )  # fmt: skip
    course = TreatmentCourse.objects.create(
        clinic=clinic, patient=patient, therapist=therapist,
        start_date=timezone.localdate(), phase_started_at=timezone.now(),
    )  # fmt: skip
    session = TherapySession.objects.create(
        clinic=clinic, course=course, therapist=therapist,
        scheduled_start=timezone.now() + timedelta(days=2),
    )  # fmt: skip
    return clinic, patient, session


def _write_outbox(count: int, clinic, patient, session, prefix: str = "bench") -> list[int]:
    from django.utils import timezone

    from notifications.models import Notification

    due = timezone.now() - timedelta(seconds=1)
    rows = (
        Notification(
            clinic=clinic,
            patient=patient,
            kind="session_reminder",
            channel="email",
            recipient=patient.email,
            about_type="session",
            about_id=session.pk,
            due_at=due,
            dedupe_key=f"{prefix}:{clinic.pk}:{n}",
        )  # fmt: skip
        for n in range(count)
    )
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            Notification.objects.bulk_create(batch)
            batch = []
    if batch:
        Notification.objects.bulk_create(batch)
    return list(Notification.objects.filter(clinic=clinic).values_list("pk", flat=True))


def _queue_depth(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        # The queue and its priority lists (kombu: name, then name + "\x06\x16" + step): the
        # outbox's sends wait in step 3 (notifications.sending.DISPATCH_PRIORITY).
        lists = ["celery", *(f"celery\x06\x16{step}" for step in (3, 6, 9))]
        return sum(client.llen(name) for name in lists) + client.hlen("unacked")
    finally:
        client.close()


def _noop_ceiling(count: int, redis, processes_factory, workers: int, concurrency: int) -> dict:
    """Publish ``count`` no-op tasks, then start the workers and time the queue draining."""
    import redis as redis_py

    from ipt_clinic.celery import app

    with app.producer_or_acquire() as producer:
        for _ in range(count):
            app.send_task("ipt_clinic.ping", producer=producer, ignore_result=True)
    client = redis_py.Redis.from_url(redis.url)
    processes = processes_factory()
    for n in range(workers):
        processes.worker(f"noop-{n}", concurrency=concurrency)
    try:
        deadline = time.monotonic() + 600
        started = None
        cpu_before, taken_before = {}, 0
        while time.monotonic() < deadline:
            waiting = client.llen("celery")
            if started is None and waiting < count:
                started = time.monotonic()
                cpu_before, taken_before = _cpu_by_process(), count - waiting
            if waiting == 0 and client.hlen("unacked") == 0:
                break
            time.sleep(0.005)
        finished = time.monotonic()
        cpu = _cpu_per_message(cpu_before, _cpu_by_process(), count - taken_before)
    finally:
        processes.stop_all()
        client.close()
    seconds = finished - (started or finished)
    return {
        "count": count,
        "seconds": round(seconds, 3),
        "rate": round(count / seconds, 1),
        "cpu_ms_per_task": cpu,
    }


def _cpu_by_process() -> dict[str, float]:
    """CPU seconds used so far by the processes a delivery involves, by kind (Linux /proc):
    Celery worker main processes, their pool children, PostgreSQL, redis-server, and this
    process (the dispatcher and the SMTP receiver)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (
            name,
            cmdline,
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / ticks,
        )
    celery = {
        pid
        for pid, (_, cmdline, _, _) in stats.items()
        if "celery" in cmdline and " worker" in cmdline
    }
    totals: dict[str, float] = {}
    for pid, (name, _cmdline, ppid, seconds) in stats.items():
        if pid == os.getpid():
            kind = "this process (dispatcher, receiver)"
        elif pid in celery:
            kind = "worker children" if ppid in celery else "worker main processes"
        elif name.startswith("postgres"):
            kind = "postgresql"
        elif name.startswith("redis-server"):
            kind = "redis"
        else:
            continue
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def _cpu_per_message(before: dict, after: dict, count: int) -> dict[str, float]:
    """Milliseconds of CPU per message, by kind of process, between two snapshots."""
    kinds = sorted(set(before) | set(after))
    return {
        kind: round((after.get(kind, 0.0) - before.get(kind, 0.0)) * 1000 / count, 3)
        for kind in kinds
    }


def _cpu_line(cpu: dict[str, float]) -> str:
    total = sum(cpu.values())
    return f"{total:.2f} = " + ", ".join(f"{kind} {ms:.2f}" for kind, ms in cpu.items())


TARGET_DUPLICATES_PER_1000 = 1
TARGET_RECOVERY_SECONDS = 60


def _held_by_dead_worker(redis_url: str) -> list[int]:
    """The rows whose send tasks the killed worker had taken and not acknowledged (in its
    prefetch or running): with late acknowledgement kombu keeps each such message in its
    ``unacked`` hash until then (protocol 2: the body is base64 JSON, args first)."""
    import base64

    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    try:
        messages = [json.loads(raw)[0] for raw in client.hvals("unacked")]
    finally:
        client.close()
    return [json.loads(base64.b64decode(message["body"]))[0][0] for message in messages]


def _worker_kill(kill_count: int, log_dir: Path, redis, concurrency: int) -> dict:
    """Deliver ``kill_count`` rows on the production timings, killing the worker when a third
    has arrived; count duplicates and losses at a receiver of this phase's own."""
    import signal

    from django.db import connection

    from notifications.content import message_id
    from notifications.models import Notification, NotificationStatus
    from notifications.sending import notifications_dispatch_due
    from tests.notifications.harness import CeleryProcesses, SmtpReceiver, database_url

    receiver = SmtpReceiver(keep_messages=False).start()
    processes = CeleryProcesses(
        database=database_url(connection.settings_dict),
        broker=redis.url,
        mail=receiver.url,
        log_dir=log_dir,
        app="ipt_clinic",
        CONN_MAX_AGE=600,
        DISPATCH_INTERVAL_SECONDS=3600,  # the rows are claimed here; beat only sweeps
    )
    try:
        clinic, patient, session = _cast("kill-")
        _write_outbox(kill_count, clinic, patient, session, prefix="bench-kill")
        expected = {message_id(row) for row in Notification.objects.filter(clinic=clinic)}
        processes.beat("kill-beat")
        claimed = notifications_dispatch_due(batch_size=1000, budget_seconds=3600)
        processes.worker("kill-doomed", concurrency=concurrency)
        deadline = time.monotonic() + 600
        while receiver.total < kill_count // 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        killed_at = time.monotonic()
        delivered_before_kill = receiver.total
        processes.kill("kill-doomed", signal.SIGKILL)
        held = _held_by_dead_worker(redis.url)
        processes.worker("kill-survivor", concurrency=concurrency)
        deadline = time.monotonic() + max(180, kill_count / 50)
        while time.monotonic() < deadline:
            with receiver.lock:
                if expected <= set(receiver.accepted):
                    break
            time.sleep(0.1)
        drained = receiver.last_at - killed_at
        # Only this phase's rows: the hash may still hold messages of the earlier phases.
        held = list(
            Notification.objects.filter(pk__in=held, clinic=clinic).values_list("pk", flat=True)
        )
        held_ids = {message_id(row) for row in Notification.objects.filter(pk__in=held)}
        with receiver.lock:
            arrivals = [receiver.arrived_at.get(key) for key in held_ids]
        recovered = max(arrivals) - killed_at if held_ids and None not in arrivals else float("inf")
        time.sleep(2)  # a late repeat still counts
    finally:
        processes.stop_all()
        receiver.stop()
    with receiver.lock:
        accepted = dict(receiver.accepted)
    duplicates = sum(n - 1 for key, n in accepted.items() if n > 1)
    lost = len(expected - set(accepted))
    per_1000 = duplicates * 1000 / kill_count
    figures = {
        "count": kill_count,
        "claimed": claimed,
        "delivered_before_kill": delivered_before_kill,
        "delivered": sum(accepted.values()),
        "duplicates": duplicates,
        "duplicates_per_1000": round(per_1000, 3),
        "lost": lost,
        "marked_sent": Notification.objects.filter(
            clinic=clinic, status=NotificationStatus.SENT
        ).count(),
        "held_by_dead_worker": len(held),
        "recovered_seconds": round(recovered, 1),
        "all_delivered_seconds": round(drained, 1),
        "targets": {
            "duplicates_per_1000": TARGET_DUPLICATES_PER_1000,
            "lost": 0,
            "recovered_seconds": TARGET_RECOVERY_SECONDS,
        },
    }
    figures["pass"] = (
        per_1000 <= TARGET_DUPLICATES_PER_1000 and lost == 0 and recovered < TARGET_RECOVERY_SECONDS
    )
    return figures


def run(
    count: int | None = None,
    workers: int = 1,
    concurrency: int = 4,
    noop: int | None = None,
    kill_count: int | None = None,
):
    """Measure on the database Django is configured with; returns the figures (also written
    to bench/results/notifications.json). ``count`` defaults to BENCH_NOTIFICATIONS_COUNT,
    else 100,000; ``kill_count`` (the worker-kill phase) to BENCH_NOTIFICATIONS_KILL_COUNT,
    else 10,000 (0: no such phase)."""
    count = count or int(os.environ.get("BENCH_NOTIFICATIONS_COUNT", 100_000))
    if kill_count is None:
        kill_count = int(os.environ.get("BENCH_NOTIFICATIONS_KILL_COUNT", 10_000))
    import django

    if not django.apps.apps.ready:
        django.setup()
    from django.db import connection

    from notifications.content import message_id
    from notifications.models import Notification, NotificationStatus
    from notifications.sending import notifications_dispatch_due
    from tests.notifications.harness import (
        CeleryProcesses,
        RedisServer,
        SmtpReceiver,
        database_url,
    )

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/notifications.py measures PostgreSQL (set DATABASE_URL)")
    noop = noop or count
    log_dir = Path(tempfile.mkdtemp(prefix="ipt-bench-notifications-"))
    print(f"   worker and redis logs in {log_dir}")
    redis = RedisServer(log_dir).start()
    receiver = SmtpReceiver(keep_messages=False).start()

    def processes_factory() -> CeleryProcesses:
        return CeleryProcesses(
            database=database_url(connection.settings_dict),
            broker=redis.url,
            mail=receiver.url,
            log_dir=log_dir,
            app="ipt_clinic",
            NOTIFICATION_LEASE_SECONDS=3600,  # nothing is swept during the run
            CONN_MAX_AGE=600,  # as in production: a worker keeps its database connection
            CELERY_TASK_TIME_LIMIT=3000,
            CELERY_TASK_SOFT_TIME_LIMIT=2999,
        )

    figures: dict = {"count": count, "workers": workers, "concurrency": concurrency}
    try:
        _point_celery_at(redis.url)
        clinic, patient, session = _cast()
        ids = _write_outbox(count, clinic, patient, session)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_notification")  # as autovacuum would by now

        # The ceiling is measured before and after the delivery and averaged, so that a
        # change in the machine's load during the run weighs on both figures alike.
        before = _noop_ceiling(noop, redis, processes_factory, workers, concurrency)
        print(f"   no-op ceiling before: {before['count']} in {before['seconds']}s = "
              f"{before['rate']:,.0f}/s; CPU per task (ms): {_cpu_line(before['cpu_ms_per_task'])}")  # fmt: skip

        started = time.perf_counter()
        claimed = notifications_dispatch_due(batch_size=1000, budget_seconds=3600)
        seconds = time.perf_counter() - started
        figures["claim_and_enqueue"] = {
            "claimed": claimed,
            "seconds": round(seconds, 3),
            "rate": round(claimed / seconds, 1),
            "target_rate": TARGET_CLAIM_RATE,
            "pass": claimed == count and claimed / seconds >= TARGET_CLAIM_RATE,
        }
        print(f"   claim+enqueue: {claimed} in {seconds:.2f}s = {claimed / seconds:,.0f}/s")

        processes = processes_factory()
        for n in range(workers):
            processes.worker(f"send-{n}", concurrency=concurrency)
        deadline = time.monotonic() + max(600, count / 50)
        cpu_before, delivered_before = None, 0
        try:
            while time.monotonic() < deadline and receiver.total < count:
                if cpu_before is None and receiver.total:
                    cpu_before, delivered_before = _cpu_by_process(), receiver.total
                if _queue_depth(redis.url) == 0 and time.monotonic() - receiver.last_at > 30:
                    break  # nothing left to take and nothing arriving
                time.sleep(0.01 if cpu_before is None else 0.2)
            cpu = _cpu_per_message(
                cpu_before or {}, _cpu_by_process(), max(1, receiver.total - delivered_before)
            )
            time.sleep(1)
        finally:
            processes.stop_all()
        span = receiver.last_at - receiver.first_at
        delivered = receiver.total
        # Every row of the bench's own clinic is one it wrote (an id list of 100,000 would
        # pass PostgreSQL's limit of 65,535 parameters a statement).
        expected = {message_id(row) for row in Notification.objects.filter(clinic=clinic)}
        assert len(expected) == len(ids)
        accepted = dict(receiver.accepted)
        duplicates = sum(n - 1 for key, n in accepted.items() if n > 1)
        lost = len(expected - set(accepted))
        marked = Notification.objects.filter(clinic=clinic, status=NotificationStatus.SENT).count()
        figures["delivery"] = {
            "delivered": delivered,
            "seconds": round(span, 3),
            "rate": round(delivered / span, 1) if span else None,
            "marked_sent": marked,
            "duplicates": duplicates,
            "lost": lost,
            "cpu_ms_per_message": cpu,
        }
        print(
            f"   delivery: {delivered} in {span:.2f}s = {delivered / span:,.0f}/s; "
            f"duplicates {duplicates}, lost {lost}, marked sent {marked}"
        )
        print(f"   delivery CPU per message (ms): {_cpu_line(cpu)}")

        after = _noop_ceiling(noop, redis, processes_factory, workers, concurrency)
        print(f"   no-op ceiling after: {after['count']} in {after['seconds']}s = "
              f"{after['rate']:,.0f}/s; CPU per task (ms): {_cpu_line(after['cpu_ms_per_task'])}")  # fmt: skip
        ceiling = {
            "count": noop,
            "rate": round((before["rate"] + after["rate"]) / 2, 1),
            "before": before,
            "after": after,
        }
        figures["noop_ceiling"] = ceiling
        print(f"   no-op ceiling (mean of both): {ceiling['rate']:,.0f}/s")
        ratio = figures["delivery"]["rate"] / ceiling["rate"] if ceiling["rate"] else 0
        figures["delivery"]["share_of_ceiling"] = round(ratio, 3)
        figures["delivery"]["pass"] = ratio >= 0.5 and duplicates == 0 and lost == 0
        figures["pass"] = figures["claim_and_enqueue"]["pass"] and figures["delivery"]["pass"]
        print(
            f"   delivery is {ratio:.0%} of the no-op ceiling (target 50%): "
            f"{'pass' if figures['delivery']['pass'] else 'FAIL'}; claim+enqueue "
            f"{'pass' if figures['claim_and_enqueue']['pass'] else 'FAIL'}"
        )
        if kill_count:
            kill = figures["worker_kill"] = _worker_kill(kill_count, log_dir, redis, concurrency)
            figures["pass"] = figures["pass"] and kill["pass"]
            print(
                f"   worker killed mid-burst ({kill['count']:,} rows, killed after "
                f"{kill['delivered_before_kill']:,}): duplicates {kill['duplicates']} "
                f"({kill['duplicates_per_1000']} in 1,000; target <= {TARGET_DUPLICATES_PER_1000}),"
                f" lost {kill['lost']}; the {kill['held_by_dead_worker']} rows it held delivered "
                f"{kill['recovered_seconds']}s after the kill (target < {TARGET_RECOVERY_SECONDS}s),"
                f" all {kill['all_delivered_seconds']}s after: {'pass' if kill['pass'] else 'FAIL'}"
            )
    finally:
        receiver.stop()
        redis.stop()
    figures["finished_at"] = datetime.now(UTC).isoformat()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=None, help="default 100,000")
    parser.add_argument("--noop", type=int, default=None, help="no-op tasks (default: --count)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--kill-count",
        type=int,
        default=None,
        help="rows of the worker-kill phase (10,000; 0: none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/notifications.py measures PostgreSQL: set DATABASE_URL to postgres://")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.local")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_url(url), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        figures = run(args.count, args.workers, args.concurrency, args.noop, args.kill_count)
        print(json.dumps(figures, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(_admin_url(url), autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


if __name__ == "__main__":
    main()
