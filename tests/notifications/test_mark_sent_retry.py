"""The mail server accepted the message, then the database failed the UPDATE that marks the
row sent: the row is still sent once. A real SMTP server and real database faults, raised
the moment the server accepts: on PostgreSQL the sender's connection is terminated (as a
restart cuts it), on SQLite another connection holds the write lock; and a fault that
outlasts the send's database retries, where the acceptance marker stands in."""

import sqlite3
import threading
from datetime import timedelta

import psycopg
import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from notifications.content import message_id
from notifications.models import Notification
from notifications.sending import notification_send, notifications_sweep_stuck

from .conftest import claimed
from .harness import database_url, wait_until

# Committed rows and autocommit, as in a worker: the faults come from other connections.
pytestmark = pytest.mark.django_db(transaction=True)


def _run_task(pk: int) -> str:
    """The send task as a worker runs it: a database error fails the task (the worker logs
    it and goes on); what counts is what reached the mail server."""
    try:
        return notification_send(pk)
    except DatabaseError as exc:
        return type(exc).__name__


def _cut_the_senders_connection():
    """On PostgreSQL: terminate this test's database backend, and wait until it is gone."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    url = database_url(connection.settings_dict)

    def cut(_message_id: str) -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            wait_until(
                lambda: (
                    not admin.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
                    ).fetchone()
                ),
                5,
                what="the backend to go",
            )

    return cut


def _hold_the_write_lock(monkeypatch, pk: int, seconds: float, held: list):
    """Another connection takes the lock the mark-sent UPDATE needs (PostgreSQL: the row's;
    SQLite: the database's) for ``seconds``, and this process waits for locks only briefly
    (PostgreSQL's lock_timeout, SQLite's busy timeout), so the UPDATE fails meanwhile."""
    options = connection.settings_dict["OPTIONS"]
    if connection.vendor == "postgresql":
        monkeypatch.setitem(options, "options", "-c lock_timeout=50ms")
    else:
        monkeypatch.setitem(options, "timeout", 0.05)
    connection.close()  # the next statement opens a connection with those options
    url, name = database_url(connection.settings_dict), connection.settings_dict["NAME"]
    vendor = connection.vendor

    def hold(_message_id: str) -> None:
        if vendor == "postgresql":
            locker = psycopg.connect(url)
            locker.execute(
                "SELECT id FROM notifications_notification WHERE id = %s FOR UPDATE", [pk]
            )
        else:
            locker = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
            locker.execute("BEGIN EXCLUSIVE")

        def release() -> None:
            locker.commit() if vendor == "postgresql" else locker.execute("COMMIT")
            locker.close()

        timer = threading.Timer(seconds, release)
        timer.start()
        held.append(timer)

    return hold


def test_it_does_not_send_again_after_the_database_failed_to_mark_it_sent(
    due_reminder, mail_server, monkeypatch, time_machine, enqueued
):
    row = claimed(due_reminder)
    held: list[threading.Timer] = []
    if connection.vendor == "postgresql":
        mail_server.on_accept = _cut_the_senders_connection()
    else:
        mail_server.on_accept = _hold_the_write_lock(monkeypatch, row.pk, 0.5, held)
    mail_server.start()

    assert _run_task(row.pk) == "sent"
    for timer in held:
        timer.join()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)

    # Past the lease, the sweeper and a redelivered message find nothing to send.
    time_machine.move_to(timezone.now() + timedelta(seconds=row_lease() + 1))
    assert notifications_sweep_stuck() == 0
    assert _run_task(row.pk) == "skipped"
    assert enqueued == []
    assert dict(mail_server.accepted) == {message_id(row): 1}


def test_it_finds_the_acceptance_when_the_database_stays_away_past_the_retries(
    due_reminder, mail_server, monkeypatch, settings, time_machine, enqueued
):
    cache.clear()
    settings.NOTIFICATION_SEND_TIME_LIMIT = 2  # the send retries the database for 1.2 s
    row = claimed(due_reminder)
    held: list[threading.Timer] = []
    mail_server.on_accept = _hold_the_write_lock(monkeypatch, row.pk, 3, held)
    mail_server.start()

    _run_task(row.pk)  # delivered; the database refused to record it all along
    for timer in held:
        timer.join()
    row.refresh_from_db()
    assert row.status == "sending"  # what a dead sender leaves behind too
    assert dict(mail_server.accepted) == {message_id(row): 1}

    time_machine.move_to(timezone.now() + timedelta(seconds=row_lease() + 1))
    assert notifications_sweep_stuck() == 0  # nothing sent again...
    row.refresh_from_db()
    assert row.status == "sent"  # ...because the marker says the server has it
    assert row.sent_at is not None
    assert _run_task(row.pk) == "skipped"
    assert enqueued == []
    assert dict(mail_server.accepted) == {message_id(row): 1}
    assert Notification.objects.filter(status="sending").count() == 0


def row_lease() -> int:
    from django.conf import settings

    return settings.NOTIFICATION_LEASE_SECONDS
