"""Fault proofs: real Redis, real Celery workers and beat, a real SMTP receiver counting
deliveries by Message-ID. Each test starts its own redis-server and processes on free loopback
ports and stops only those.

The workers are separate processes, so they must reach the test database: rows are committed
(``transaction=True``) and the workers get a DATABASE_URL pointing at the test database. That
works on PostgreSQL (what CI runs) and on an SQLite *file*; the in-memory SQLite test database
cannot be shared, and these tests then fail saying so (they never skip).
"""

import re
import signal
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from sessions import outbox
from sessions.models import Notification
from sessions.notification_content import message_id
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory

from .harness import CeleryProcesses, RedisServer, SmtpReceiver, database_url, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST = {
    "DISPATCH_INTERVAL_SECONDS": 1,
    "NOTIFICATION_SWEEP_INTERVAL_SECONDS": 1,
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

        def celery(self, **env) -> CeleryProcesses:
            group = CeleryProcesses(
                database=database,
                broker=redis.url,
                mail=self.receiver.url,
                log_dir=tmp_path,
                **{**FAST, **env},
            )
            groups.append(group)
            return group

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
        rows.append(outbox.on_session_booked(session))
    return rows


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


def test_it_delivers_each_once_when_a_worker_is_killed_mid_send(rig):
    receiver = rig.smtp(delay=0.4)
    rows = _due_reminders(16)
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


def test_it_delivers_no_duplicates_with_two_beats(rig):
    receiver = rig.smtp(delay=0.05)
    rows = _due_reminders(30)
    processes = rig.celery()
    processes.beat("beat-one")
    processes.beat("beat-two")
    processes.worker("w1", concurrency=2)
    processes.worker("w2", concurrency=2)

    _expect_each_once(receiver, rows, processes)


def test_it_loses_nothing_when_redis_restarts_empty(rig):
    receiver = rig.smtp(delay=0.2)
    rows = _due_reminders(20)
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
        doomed = outbox.on_session_booked(
            SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=3))
        )
        raise RuntimeError("the booking fails after its reminder was written")
    kept = outbox.on_session_booked(
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
        CELERY_VISIBILITY_TIMEOUT=1, NOTIFICATION_LEASE_SECONDS=30, FAULT_FAST_RESTORE=1
    )
    processes.beat("beat")
    processes.worker("w1", concurrency=2, loglevel="INFO")
    processes.worker("w2", concurrency=2, loglevel="INFO")

    _expect_each_once(receiver, rows, processes, timeout=60)
    received = sum(
        len(re.findall(r"therapy\.send_notification\[[^\]]+\] received", processes.log_of(name)))
        for name in ("w1", "w2")
    )
    assert received > len(rows), "the broker never handed a message out a second time"
