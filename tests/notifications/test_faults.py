"""Fault proofs: real Redis, real Celery workers and beat, a real SMTP receiver counting
deliveries by Message-ID. Each test starts its own redis-server and processes on free loopback
ports and stops only those.

The workers are separate processes, so they must reach the test database: rows are committed
(``transaction=True``) and the workers get a DATABASE_URL pointing at the test database. That
works on PostgreSQL (what CI runs) and on an SQLite *file*; the in-memory SQLite test database
cannot be shared, and these tests then fail saying so (they never skip).
"""

import json
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications.content import message_id
from notifications.models import Notification
from sessions import notices
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory

from .burst import write_due_burst
from .harness import (
    CeleryProcesses,
    PostgresCluster,
    RedisServer,
    SmtpReceiver,
    database_url,
    manage,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST = {
    "DISPATCH_INTERVAL_SECONDS": 1,
    "NOTIFICATION_SWEEP_INTERVAL_SECONDS": 1,
    "NOTIFICATION_SEND_TIME_LIMIT": 3,
    "NOTIFICATION_LEASE_SECONDS": 4,
    "NOTIFICATION_MAX_ATTEMPTS": 20,
}


def _shared_database() -> str:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or name == ":memory:"):
        pytest.fail(
            "The fault proofs run workers in other processes, which cannot see an in-memory "
            "SQLite test database: run them on PostgreSQL (DATABASE_URL=postgres://...) as CI "
            "does, or with an SQLite file test database."
        )
    return database_url(connection.settings_dict)


@pytest.fixture
def rig(tmp_path):
    """Start Redis and an SMTP receiver; hand back a factory for worker/beat processes.
    Everything started here is stopped here, whatever the test did."""
    database = _shared_database()
    redis = RedisServer(tmp_path).start()
    receivers: list[SmtpReceiver] = []
    groups: list[CeleryProcesses] = []

    class Rig:
        def __init__(self):
            self.redis = redis
            self.receiver: SmtpReceiver | None = None

        def smtp(self, delay: float = 0.0) -> SmtpReceiver:
            self.receiver = SmtpReceiver(delay=delay).start()
            receivers.append(self.receiver)
            return self.receiver

        def celery(self, timings=FAST, database=database, **env) -> CeleryProcesses:
            group = CeleryProcesses(
                database=database,
                broker=redis.url,
                mail=self.receiver.url,
                log_dir=tmp_path,
                **{**timings, **env},
            )
            groups.append(group)
            return group

        def stop_processes(self) -> None:
            for group in groups:
                group.stop_all()

    yield Rig()
    for group in groups:
        group.stop_all()
    for receiver in receivers:
        receiver.stop()
    redis.stop()


def _due_reminders(count: int) -> list[Notification]:
    """``count`` committed session reminders, each due now (sessions inside the lead time)."""
    therapist = UserFactory()
    rows = []
    for _ in range(count):
        course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
        session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=2))
        rows.append(notices.on_session_booked(session))
    return rows


def _risk_alerts(count: int) -> list[Notification]:
    """``count`` item-9 answers given in the portal, each alerting the treating therapist and
    the clinic's duty contact by email at once (``sessions.risk``): 2 x ``count`` rows."""
    from sessions.measures import measure_record
    from sessions.models import EnteredBy

    therapist = UserFactory()
    clinic = therapist.clinic
    clinic.duty_email = "duty@clinic.example"
    clinic.save(update_fields=["duty_email"])
    for _ in range(count):
        course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
        measure_record(
            course=course,
            instrument="phq9",
            answers=[1] * 8 + [2],
            entered_by_kind=EnteredBy.PATIENT,
        )
    # The web process also enqueues them the moment it commits, to its own broker, which
    # these workers do not read: as if that message were lost with Redis, the rows go back to
    # the outbox's own path (they would come back through the sweeper after their lease).
    alerts = Notification.objects.filter(kind="risk_alert")
    alerts.update(status="pending", lease_until=None)
    rows = list(alerts.order_by("pk"))
    assert len(rows) == 2 * count
    return rows


# Every fault below is proved for the patients' reminders and for staff risk alerts.
NOTICES = pytest.mark.parametrize(
    "due_rows",
    [
        pytest.param(lambda count: _due_reminders(count), id="reminders"),
        pytest.param(lambda count: _risk_alerts(max(count // 2, 2)), id="risk-alerts"),
    ],
)


REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "notifications" / "faults.jsonl"


def _burst_ids(keys: list[str]) -> set[str]:
    return {message_id(Notification(dedupe_key=key)) for key in keys}


def _count_and_report(scenario: str, receiver: SmtpReceiver, expected: set[str], **extra) -> dict:
    """Delivered, duplicated (copies beyond the first) and lost mails of one scenario: printed
    and appended to test-artifacts/notifications/faults.jsonl."""
    with receiver.lock:
        accepted = dict(receiver.accepted)
    counts = {
        "scenario": scenario,
        "mails": len(expected),
        "delivered": sum(accepted.values()),
        "duplicates": sum(n - 1 for key, n in accepted.items() if key in expected),
        "lost": len(expected - set(accepted)),
        "strangers": sorted(set(accepted) - expected),
        **extra,
    }
    print(f"\nfault counts: {json.dumps(counts)}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as report:
        report.write(json.dumps(counts) + "\n")
    return counts


def _wait_for_all(receiver: SmtpReceiver, expected: set[str], timeout: float) -> float | None:
    """Seconds until every expected mail has arrived (then 2 s more for late repeats), or
    None if some had not after ``timeout`` (the counts then say how many)."""
    started = time.monotonic()

    def all_in() -> bool:
        with receiver.lock:
            return expected <= set(receiver.accepted)

    try:
        wait_until(all_in, timeout, interval=0.1, what="every notification to arrive")
    except AssertionError:
        return None
    took = time.monotonic() - started
    time.sleep(2)
    return took


def _expect_each_once(receiver: SmtpReceiver, rows, processes, timeout: float = 60):
    expected = {message_id(row) for row in rows}

    def all_in() -> bool:
        with receiver.lock:
            return expected <= set(receiver.accepted)

    try:
        wait_until(all_in, timeout, interval=0.2, what="every notification to arrive")
    except AssertionError as exc:
        missing = expected - set(receiver.accepted)
        raise AssertionError(f"{exc}; {len(missing)} missing\n{processes.logs()}") from None
    time.sleep(2)  # let any late duplicate arrive before counting
    twice = receiver.duplicates()
    if twice:
        by_id = {message_id(row): row.pk for row in rows}
        states = list(
            Notification.objects.filter(pk__in=[by_id[key] for key in twice]).values(
                "pk", "status", "attempts", "sent_at", "last_error"
            )
        )
        raise AssertionError(f"delivered twice: {states}\n{processes.logs()}")
    assert set(receiver.accepted) == expected
    assert receiver.total == len(expected)
    assert Notification.objects.filter(status="sent").count() == len(expected)


@NOTICES
def test_it_delivers_each_once_when_a_worker_is_killed_mid_send(rig, due_rows):
    receiver = rig.smtp(delay=0.4)
    rows = due_rows(16)
    processes = rig.celery()
    processes.beat("beat")
    processes.worker("doomed", concurrency=2, loglevel="INFO")

    def mid_send() -> bool:
        # A message is on the wire, and every message the receiver accepted is already marked
        # sent: the kill lands mid-send, not in the one-round-trip window between the
        # server's "250" and our UPDATE (the residual at-least-once window, see
        # sessions/notifications.py).
        with receiver.lock:
            accepted = receiver.total
            started = list(receiver.sending_since.values())
        # Well inside every send under way: each began under 0.15 s ago and lasts 0.4 s,
        # which leaves the kill time to take effect before the receiver would answer.
        if accepted < 3 or not started or time.monotonic() - min(started) > 0.15:
            return False
        return Notification.objects.filter(status="sent").count() == accepted

    # Kill the whole worker (parent and pool) while a message is on the wire.
    wait_until(mid_send, 60, 0.01, "a moment in the middle of a send")
    processes.kill("doomed", signal.SIGKILL)
    processes.worker("survivor", concurrency=2, loglevel="INFO")
    # The receiver notices the dropped connection on its own thread, a moment later.
    wait_until(lambda: receiver.aborted, 5, what="the receiver to see the sender vanish")

    _expect_each_once(receiver, rows, processes)


@NOTICES
def test_it_delivers_no_duplicates_with_two_beats(rig, due_rows):
    receiver = rig.smtp(delay=0.05)
    rows = due_rows(30)
    processes = rig.celery()
    processes.beat("beat-one")
    processes.beat("beat-two")
    processes.worker("w1", concurrency=2)
    processes.worker("w2", concurrency=2)

    _expect_each_once(receiver, rows, processes)


@NOTICES
def test_it_loses_nothing_when_redis_restarts_empty(rig, due_rows):
    receiver = rig.smtp(delay=0.2)
    rows = due_rows(20)
    processes = rig.celery()
    processes.beat("beat")
    processes.worker("w1", concurrency=2)

    wait_until(lambda: receiver.total >= 3, 60, 0.02, "the first deliveries")
    rig.redis.stop()  # queued messages are gone with it
    delivered_before = receiver.total
    time.sleep(2)
    rig.redis.start()  # same port, empty
    assert delivered_before < len(rows), "everything was sent before Redis stopped"

    _expect_each_once(receiver, rows, processes, timeout=90)


def test_it_sends_nothing_from_a_rolled_back_transaction(rig):
    receiver = rig.smtp()
    processes = rig.celery()
    processes.beat("beat")
    processes.worker("w1", concurrency=1)
    therapist = UserFactory()
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))

    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = notices.on_session_booked(
            SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=3))
        )
        raise RuntimeError("the booking fails after its reminder was written")
    kept = notices.on_session_booked(
        SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=4))
    )

    _expect_each_once(receiver, [kept], processes)
    time.sleep(2)  # a few more dispatch rounds
    assert message_id(doomed) not in receiver.accepted
    assert receiver.total == 1


def test_it_delivers_once_when_a_send_outlives_the_visibility_timeout(rig):
    # Each send takes 3 s; the broker hands an unacknowledged message out again after 1 s.
    receiver = rig.smtp(delay=3)
    rows = _due_reminders(4)
    processes = rig.celery(
        CELERY_VISIBILITY_TIMEOUT=1,
        NOTIFICATION_SEND_TIME_LIMIT=20,
        NOTIFICATION_LEASE_SECONDS=30,
        FAULT_FAST_RESTORE=1,
    )
    processes.beat("beat")
    processes.worker("w1", concurrency=2, loglevel="INFO")
    processes.worker("w2", concurrency=2, loglevel="INFO")

    _expect_each_once(receiver, rows, processes, timeout=60)
    received = sum(
        len(
            re.findall(
                r"notifications\.send_notification\[[^\]]+\] received", processes.log_of(name)
            )
        )
        for name in ("w1", "w2")
    )
    assert received > len(rows), "the broker never handed a message out a second time"


def test_it_recovers_a_killed_workers_burst_within_a_minute_on_the_default_timings(rig):
    """A burst of 600 reminders; the worker (4 pool processes, each holding 4 messages) is
    killed a quarter of the way through. The default lease and sweep interval bring back
    what it held within a minute; nothing is lost, and at most the sends caught between the
    server's "250" and the mark-sent UPDATE (one per pool process) can repeat."""
    receiver = rig.smtp(delay=0.02)
    expected = _burst_ids(write_due_burst(600))
    processes = rig.celery(timings={"DISPATCH_INTERVAL_SECONDS": 1})  # the rest: defaults
    processes.beat("beat")
    processes.worker("doomed", concurrency=4)

    wait_until(lambda: receiver.total >= 150, 60, 0.01, "a quarter of the burst")
    processes.kill("doomed", signal.SIGKILL)
    processes.worker("survivor", concurrency=4)
    recovered = _wait_for_all(receiver, expected, timeout=90)

    counts = _count_and_report(
        "worker killed mid-burst (default timings)",
        receiver,
        expected,
        recovered_s=recovered and round(recovered, 1),
    )
    assert counts["lost"] == 0 and counts["strangers"] == [], processes.logs()
    assert recovered < 60
    assert counts["duplicates"] <= 4
    # The last mark-sent UPDATEs may still be on their way when the last message arrives.
    wait_until(
        lambda: Notification.objects.filter(status="sent").count() == len(expected),
        30,
        interval=0.2,
        what="every delivered reminder marked sent",
    )


def test_it_delivers_each_once_when_postgresql_restarts_mid_burst(rig):
    """The workers' PostgreSQL (a cluster of this test's own) is restarted while a burst of
    600 reminders goes out: sends waiting for the mail server's "250" find their connection
    cut when they mark the row sent. None goes out twice, none is lost."""
    cluster = PostgresCluster().start()
    try:
        database = cluster.create_database("ipt_faults")
        manage(database, "migrate", "-v", "0")
        manage(
            database,
            "shell",
            "-c",
            "from tests.notifications.burst import write_due_burst; write_due_burst(600)",
        )
        with psycopg.connect(database) as db:
            keys = [
                key for (key,) in db.execute("SELECT dedupe_key FROM notifications_notification")
            ]
        expected = _burst_ids(keys)
        receiver = rig.smtp(delay=0.05)
        processes = rig.celery(database=database)
        processes.beat("beat")
        processes.worker("w1", concurrency=4)

        wait_until(lambda: receiver.total >= 150, 60, 0.01, "a quarter of the burst")
        restart = cluster.restart()
        _wait_for_all(receiver, expected, timeout=90)

        counts = _count_and_report(
            "PostgreSQL restarted mid-burst", receiver, expected, restart_s=round(restart, 2)
        )
        with psycopg.connect(database) as db:
            statuses = dict(
                db.execute(
                    "SELECT status, count(*) FROM notifications_notification GROUP BY status"
                )
            )
        assert counts["lost"] == 0 and counts["strangers"] == [], processes.logs()
        assert counts["duplicates"] == 0, processes.logs()
        assert statuses == {"sent": len(expected)}
    finally:
        rig.stop_processes()
        cluster.stop()


SEND_AGAIN_AFTER_A_BACKLOG = """
from datetime import timedelta
from django.utils import timezone
from notifications.models import Notification
from notifications.sending import notifications_dispatch_due, notifications_sweep_stuck
held = Notification.objects.order_by("-pk").first()
Notification.objects.filter(pk=held.pk).update(due_at=timezone.now() + timedelta(days=1))
notifications_dispatch_due()
Notification.objects.filter(pk=held.pk).update(
    status="sending", lease_until=timezone.now() - timedelta(seconds=1)
)
notifications_sweep_stuck()
"""


def test_it_sends_what_the_sweeper_finds_before_a_backlog(rig):
    """50 sends are queued; then the sweeper sends again a row a dead worker held. A worker
    started after both takes the swept row first, not after the 50."""
    receiver = rig.smtp(delay=0.02)
    keys = write_due_burst(51)
    # The dispatcher and the sweeper run in a process publishing to the test's Redis.
    manage(_shared_database(), "shell", "-c", SEND_AGAIN_AFTER_A_BACKLOG, REDIS_URL=rig.redis.url)
    processes = rig.celery()
    processes.worker("w1", concurrency=1)

    swept = message_id(Notification(dedupe_key=keys[-1]))
    assert _wait_for_all(receiver, _burst_ids(keys), timeout=60) is not None, processes.logs()
    assert receiver.seen[0] == swept
    assert receiver.total == 51
