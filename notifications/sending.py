"""Delivering the outbox: dispatch, sweep, send, retry.

A row's life::

    pending ──dispatch──▶ sending (lease_until = now + lease, attempt_started_at empty)
    sending ──a sender claims it──▶ attempts + 1, attempt_started_at = now, lease renewed
        ├─ delivered ─────────────▶ sent
        ├─ transient failure ─────▶ pending again (next_attempt_at = backoff), or failed at the cap
        ├─ permanent failure ─────▶ failed (not retried)
        └─ rules no longer hold ──▶ cancelled (session cancelled or begun, consent withdrawn…)
    sending, lease run out ──sweep──▶ enqueued again (or failed once attempts reach the cap);
                                      sent, if the server's acceptance was remembered

The due time lives in the row (``due_at``, ``next_attempt_at``); the broker only ever carries
"send row N now". Every move is a conditional UPDATE that checks the state it expects, so two
dispatchers, two deliveries of one message or a sweeper racing a slow sender cannot both win.

Once, and where SMTP stops us: a sender claims the row with one conditional UPDATE (status
"sending", not sent, no attempt under way; attempts + 1), hands the message to the SMTP
server (on a connection kept open, so nothing but the server's reply to DATA comes between)
or to the SMS provider, and marks the row sent in the very next statement. Whatever the
broker redelivers, a row marked sent is never sent again, and a row with an attempt under
way is never taken by another sender: only the sweeper reopens it, once its lease has run
out (the sender is then dead: the lease outlasts the send task's hard time limit).

* The database failing the mark-sent UPDATE after the server accepted the message (a
  PostgreSQL restart, a lost connection) does not make the row go out again: the UPDATE is
  retried with backoff inside the task, and from its first failure the acceptance is also
  written to the cache (Redis in production: outside the database) as a marker; the
  sweeper looks for that marker before it reopens a row whose sender vanished, and marks
  the row sent instead.
* What no program can close is the gap between the server taking the message (the end of
  DATA has left us) and our UPDATE committing, when the worker dies there (SIGKILL, the
  machine going down): nothing is left to say the server got it, and after the lease the
  sweeper sends it again. At most one message per pool process in that instant repeats, and
  every attempt of a row carries the same Message-ID (derived from the row's unique key), so
  a receiver can drop the repeat. The same holds for a connection lost while the server's
  "250" is on its way (RFC 1047).

Timings (settings): a crashed worker's rows come back within lease + sweep interval
(40 + 10 s by default, under a minute), whether it held them in its prefetch or was
sending them. The broker's visibility timeout stays long: the database, not the broker,
decides when a row is sent again (see the settings).
"""

import logging
import random
import smtplib
import threading
import time
from datetime import datetime, timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from ipt_clinic import staff_mail
from ipt_clinic.rows import Columns, instances, statement

from . import registry
from .content import (
    email_message,
    message_id,
    render,
    staff_email_message,
)
from .models import (
    Heartbeat,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from .quiet_hours import quiet_hours_end
from .registry import Delivery
from .sms import SmsPermanentError, SmsTransientError, get_sms_backend

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 1000
REANALYZE_AFTER = 10_000


class PermanentFailure(Exception):
    """Retrying cannot help (the address or number is refused)."""


class TransientFailure(Exception):
    """Worth another try later."""


def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)


def max_attempts() -> int:
    return settings.NOTIFICATION_MAX_ATTEMPTS


def database_retry_seconds() -> float:
    """How long a send keeps retrying a statement the database failed (the claim, the
    mark-sent): well inside the task's soft time limit (0.8 of the hard one), which the
    lease outlasts, so no sweeper reopens the row while its sender still retries."""
    return settings.NOTIFICATION_SEND_TIME_LIMIT * 0.6


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about base·2^(attempt−1), capped, drawn from its upper
    half so that rows that failed together do not come back together."""
    base = getattr(settings, "NOTIFICATION_RETRY_BASE_SECONDS", 60)
    cap = getattr(settings, "NOTIFICATION_RETRY_MAX_SECONDS", 3600)
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311  # nosec B311


# ─── dispatch ────────────────────────────────────────────────────────────────────────────


# Redis serves a queue's priority lists in order, 0 first (kombu's steps 0, 3, 6, 9; other
# tasks publish at 0). The dispatcher's sends wait in list 3; what the sweeper sends again (a
# dead worker's rows, rows whose messages a restarted broker lost) goes to 0, so a worker takes
# it before a backlog, not after: a crashed worker's rows come back within lease + sweep
# interval even while thousands of sends are queued. The filesystem broker ignores priorities.
DISPATCH_PRIORITY = 3
SWEEP_PRIORITY = 0


def _enqueue(ids: list[int], priority: int = DISPATCH_PRIORITY) -> None:
    """Publish one send task per row (called after the claim commits), at ``priority``.

    The messages are built with Celery's own protocol builder (``amqp.as_task_v2``) and
    published in batches on one producer: one round trip to Redis per 500 messages, and none
    of ``apply_async``'s per-call option merging, which at 100,000 rows is most of the cost.
    """
    if not ids:
        return
    from celery.utils import uuid

    from ipt_clinic.celery import app

    from .tasks import send_notification

    # The project's own app, not the task's proxy: a shared task follows whichever Celery app
    # was made current last (a test's client app, say), and would publish to its broker.
    amqp = app.amqp
    queue = amqp.default_queue
    with app.producer_or_acquire() as producer, producer.batch(max_size=500):
        producer.maybe_declare(queue)
        for pk in ids:
            task_id = uuid()
            headers, properties, body, _ = amqp.as_task_v2(
                task_id,
                send_notification.name,
                args=(pk,),
                ignore_result=True,
                argsrepr=f"({pk},)",
                kwargsrepr="{}",
            )
            producer.publish(
                body,
                exchange="",
                routing_key=queue.name,
                serializer="json",
                delivery_mode=2,
                headers=headers,
                # Inside a batch a publish only buffers the message; the batch is written
                # when it fills and at the end, without retry either way (a failed batch
                # raises, and its rows go out again when the sweeper finds their lease
                # expired). retry=True would only wrap each buffering call in a retrying
                # closure, a tenth of the enqueue's time.
                retry=False,
                priority=priority,
                **properties,
            )


def _claim_due_batch(limit: int) -> list[int]:
    now = timezone.now()
    due = Q(status=NotificationStatus.PENDING, due_at__lte=now) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    claim = {
        "status": NotificationStatus.SENDING,
        "lease_until": now + lease(),
        "attempt_started_at": None,
        "updated_at": now,
    }
    with transaction.atomic():
        candidates = Notification.objects.filter(due).order_by("due_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            ids = list(
                candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
            )
            if ids:
                Notification.objects.filter(pk__in=ids).update(**claim)
        else:
            # The embedded database serialises writers (BEGIN IMMEDIATE); the conditional
            # UPDATE still only takes rows that are pending at the moment it runs.
            picked = list(candidates.values_list("pk", flat=True)[:limit])
            Notification.objects.filter(pk__in=picked, status=NotificationStatus.PENDING).update(
                **claim
            )
            ids = list(
                Notification.objects.filter(
                    pk__in=picked,
                    status=NotificationStatus.SENDING,
                    lease_until=claim["lease_until"],
                    attempt_started_at__isnull=True,
                ).values_list("pk", flat=True)
            )
        transaction.on_commit(partial(_enqueue, ids), robust=True)
    return ids


def notifications_dispatch_due(*, batch_size: int = DISPATCH_BATCH, budget_seconds=None) -> int:
    """Claim every due pending row (in batches, each its own transaction) and enqueue one send
    task per row after the batch commits. Returns how many rows were claimed."""
    budget = (
        budget_seconds if budget_seconds is not None else settings.NOTIFICATION_LEASE_SECONDS / 2
    )
    deadline = time.monotonic() + budget
    claimed = 0
    while True:
        ids = _claim_due_batch(batch_size)
        claimed += len(ids)
        if len(ids) < batch_size or time.monotonic() > deadline:
            break
    if claimed >= REANALYZE_AFTER:
        # One big claim turns most of the table from "pending" to "sending" at once; until
        # autovacuum catches up, the planner believes "sending" rare and serves each sender's
        # one-row UPDATE from the partial status index instead of the primary key. (Seen on
        # PostgreSQL; SQLite's planner reads the statistics ANALYZE keeps the same way.)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Notification._meta.db_table)}")
    heartbeat("dispatch", {"claimed": claimed})
    return claimed


def notifications_send_now(ids: list[int]) -> None:
    """Once the caller's transaction commits, claim these rows (if still pending and due) and
    enqueue their sends ahead of the queue, without waiting for the dispatcher's next run:
    for alerts that must go at once. A row whose enqueue fails (the broker away) is left
    claimed, and the sweeper sends it when its lease runs out, as for any lost message."""
    if ids:
        transaction.on_commit(partial(_claim_now, list(ids)), robust=True)


def _claim_now(ids: list[int]) -> None:
    now = timezone.now()
    claimed = [
        pk
        for pk in ids
        if Notification.objects.filter(
            pk=pk, status=NotificationStatus.PENDING, due_at__lte=now
        ).update(
            status=NotificationStatus.SENDING,
            lease_until=now + lease(),
            attempt_started_at=None,
            updated_at=now,
        )
    ]
    _enqueue(claimed, SWEEP_PRIORITY)


def heartbeat(name: str, detail: dict) -> None:
    now = timezone.now()
    if Heartbeat.objects.filter(name=name).update(last_run_at=now, detail=detail):
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(name=name, last_run_at=now, detail=detail)
    except IntegrityError:  # another beat wrote it first
        Heartbeat.objects.filter(name=name).update(last_run_at=now, detail=detail)


# ─── sweep ───────────────────────────────────────────────────────────────────────────────


def notifications_sweep_stuck(*, limit: int = DISPATCH_BATCH) -> int:
    """Re-enqueue rows left in "sending" after their lease ran out (the task was lost with the
    broker, or its worker died). A row whose attempt the mail server is remembered to have
    accepted (``_remember_accepted``) is marked sent instead; one that has used up its
    attempts is marked failed."""
    now = timezone.now()
    with transaction.atomic():
        stuck = Notification.objects.filter(status=NotificationStatus.SENDING, lease_until__lt=now)
        if connection.features.has_select_for_update_skip_locked:
            stuck = stuck.select_for_update(skip_locked=True)
        rows = list(
            stuck.order_by("lease_until").values_list("pk", "attempts", "attempt_started_at")[
                :limit
            ]
        )
        expired = Q(status=NotificationStatus.SENDING, lease_until__lt=now)
        started = [(pk, attempts) for pk, attempts, began in rows if began is not None]
        accepted = _accepted_markers(started)
        if accepted is None:  # the markers cannot be read: leave started rows for next time
            rows = [row for row in rows if row[2] is None]
            accepted = {}
        for (pk, attempts), marker in accepted.items():
            Notification.objects.filter(expired, pk=pk, attempts=attempts).update(
                status=NotificationStatus.SENT,
                sent_at=datetime.fromisoformat(marker["at"]),
                recipient=marker["recipient"],
                last_error="",
                lease_until=None,
                attempt_started_at=None,
                payload={},
                updated_at=now,
            )
        rows = [row for row in rows if (row[0], row[1]) not in accepted]
        spent = [pk for pk, attempts, _ in rows if attempts >= max_attempts()]
        again = [pk for pk, attempts, _ in rows if attempts < max_attempts()]
        if spent:
            Notification.objects.filter(expired, pk__in=spent).update(
                status=NotificationStatus.FAILED,
                last_error="Gave up: no worker finished sending it before its lease ran out.",
                lease_until=None,
                attempt_started_at=None,
                payload={},
                updated_at=now,
            )
        if again:
            Notification.objects.filter(expired, pk__in=again).update(
                lease_until=now + lease(), attempt_started_at=None, updated_at=now
            )
            transaction.on_commit(partial(_enqueue, again, SWEEP_PRIORITY), robust=True)
    if accepted:
        _forget_accepted(list(accepted))
    heartbeat("sweep", {"requeued": len(again), "failed": len(spent), "found_sent": len(accepted)})
    return len(again)


# ─── the "accepted by the server" marker ─────────────────────────────────────────────────

# Long enough to outlast any database outage the sweeper could come back from.
ACCEPTED_MARKER_SECONDS = 7 * 24 * 3600


def _marker_key(pk: int, attempt: int) -> str:
    return f"notification-accepted:{pk}:{attempt}"


def _remember_accepted(pk: int, attempt: int, recipient: str, at: datetime) -> bool:
    """Write down, outside the database, that the server accepted attempt ``attempt`` of
    row ``pk``: only when the database has just failed to record it."""
    try:
        cache.set(
            _marker_key(pk, attempt),
            {"at": at.isoformat(), "recipient": recipient},
            ACCEPTED_MARKER_SECONDS,
        )
    except Exception:  # noqa: BLE001 - any cache backend's failure; the row is then sent again
        logger.exception("notification %s: the acceptance marker could not be written", pk)
        return False
    return True


def _accepted_markers(started: list[tuple[int, int]]) -> dict[tuple[int, int], dict] | None:
    """The markers of these (row, attempt) pairs that exist; None when the cache fails."""
    if not started:
        return {}
    keys = {_marker_key(pk, attempt): (pk, attempt) for pk, attempt in started}
    try:
        found = cache.get_many(list(keys))
    except Exception:  # noqa: BLE001 - any cache backend's failure
        logger.warning("the sweeper could not read acceptance markers", exc_info=True)
        return None
    return {keys[key]: marker for key, marker in found.items()}


def _forget_accepted(pairs: list[tuple[int, int]]) -> None:
    try:
        cache.delete_many([_marker_key(pk, attempt) for pk, attempt in pairs])
    except Exception:  # noqa: BLE001 - they expire anyway
        logger.debug("acceptance markers not deleted", exc_info=True)


# ─── send ────────────────────────────────────────────────────────────────────────────────


def _claim_for_sending(pk: int, now: datetime) -> Notification | None:
    """Take the row for one attempt (attempts + 1) and return it with its patient and clinic,
    or None when it is not ours to send (already sent, cancelled, or an attempt is under way).

    An attempt under way is never taken over here, even after its lease: the server may
    have accepted it, and only the sweeper (which looks for the acceptance marker first)
    reopens such a row."""
    if connection.vendor == "postgresql":
        return _claim_and_read(pk, now)
    return _claim_with_orm(pk, now)


def _claim_with_orm(pk: int, now: datetime) -> Notification | None:
    """The claim as the ORM writes it: a conditional UPDATE, then the row with its patient and
    clinic (the embedded database; on PostgreSQL ``_claim_and_read`` does both at once)."""
    taken = Notification.objects.filter(
        pk=pk,
        status=NotificationStatus.SENDING,
        sent_at__isnull=True,
        attempt_started_at__isnull=True,
    ).update(
        attempts=F("attempts") + 1,
        attempt_started_at=now,
        lease_until=now + lease(),
        updated_at=now,
    )
    if taken != 1:
        return None
    notification = Notification.objects.select_related("patient", "clinic").get(pk=pk)
    # Nobody else can take it while our lease runs; this only guards a lease shorter than
    # the time between these two statements.
    if notification.attempt_started_at != now:
        return None
    return notification


def _claim_sql() -> tuple[str, list[Columns]]:
    """On PostgreSQL the claim and the reads every send needs are one statement: the UPDATE
    returns the row, joined to its patient (none for a staff mail) and clinic.

    Kept by measurement (issue 18): through the ORM (``_claim_with_orm``: the UPDATE, then
    the row with select_related) the sending process spent 1.4-1.9 times the CPU per message
    (A/B on PostgreSQL, a real SMTP receiver, alternating rounds), and make bench's delivery,
    at about half its no-op ceiling, fell to two thirds of its rate (22% against 31% of the
    ceiling on a loaded machine). tests/notifications/test_send_path_on_postgresql.py checks
    that both ways claim the same row with the same fields. It runs through Django's cursor:
    with DATABASE_SERVER_SIDE_BINDING on it is prepared like any repeated query (planned
    once per connection), with it off nothing is."""
    from ipt_clinic.accounts.models import Clinic

    patient_model = Notification._meta.get_field("patient").related_model
    parts = [
        Columns(Notification, "n"),
        Columns(patient_model, "p"),
        Columns(Clinic, "c"),
    ]
    sql = (
        f"WITH n AS (UPDATE {Notification._meta.db_table}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        " SET attempts = attempts + 1, attempt_started_at = %s, lease_until = %s,"
        " updated_at = %s"
        " WHERE id = %s AND status = %s AND sent_at IS NULL AND attempt_started_at IS NULL"
        " RETURNING *)"
        f" SELECT {', '.join(part.sql for part in parts)} FROM n"
        f" LEFT JOIN {patient_model._meta.db_table} p ON p.id = n.patient_id"
        f" JOIN {Clinic._meta.db_table} c ON c.id = n.clinic_id"
    )
    return sql, parts


def _claim_and_read(pk: int, now: datetime) -> Notification | None:
    sql, parts = statement("notification-claim", _claim_sql)
    params = [now, now + lease(), now, pk, NotificationStatus.SENDING.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    notification, patient, clinic = instances(row, parts)
    notification.patient = patient
    notification.clinic = clinic
    return notification


def _finish(pk: int, attempt: int, **changes) -> bool:
    """Move a row we claimed (attempt ``attempt``) to its next state; False if we lost it."""
    changes.setdefault("updated_at", timezone.now())
    return bool(
        Notification.objects.filter(
            pk=pk, status=NotificationStatus.SENDING, attempts=attempt
        ).update(**changes)
    )


def _mark_sent(pk: int, attempt: int, recipient: str, sent_at: datetime) -> bool:
    """``_finish(..., status=SENT, ...)`` as one fixed statement, on either database.

    Kept by measurement (issue 18): through ``_finish`` (the ORM compiling the same UPDATE
    of nine columns for every message) the sending process spent 1.13-1.15 times the CPU
    per reminder in two A/B runs of three on PostgreSQL with a real SMTP receiver
    (alternating rounds; the third within its noise), where make bench's delivery sits at
    about half its no-op ceiling. tests/notifications/test_mark_sent.py checks that both
    leave the same row, on SQLite and PostgreSQL."""
    moment = Notification._meta.get_field("sent_at").get_db_prep_save(sent_at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s,"  # noqa: S608 - the name from the model  # nosec B608
            " recipient = %s, last_error = '', lease_until = NULL, attempt_started_at = NULL,"
            " payload = '{}', updated_at = %s WHERE id = %s AND status = %s AND attempts = %s",
            [
                NotificationStatus.SENT.value,
                moment,
                recipient,
                moment,
                pk,
                NotificationStatus.SENDING.value,
                attempt,
            ],
        )
        return cursor.rowcount == 1


def _classify_smtp(exc: Exception) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentFailure(f"Address refused: {codes[0]} {exc.recipients}")
        return TransientFailure(f"Address deferred: {exc.recipients}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return TransientFailure(f"Mail server login failed ({exc.smtp_code}): check mail settings")
    if isinstance(exc, smtplib.SMTPResponseException):
        message = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        if exc.smtp_code >= 500:
            return PermanentFailure(f"Refused by the mail server: {exc.smtp_code} {message}")
        return TransientFailure(f"Mail server busy: {exc.smtp_code} {message}")
    return TransientFailure(f"{type(exc).__name__}: {exc}")


# One mail connection per worker process (per thread, for a threaded pool), kept open between
# messages: no connect, greeting and QUIT per message, and "sent" is recorded right after the
# server's reply to DATA.
_mail = threading.local()
MAIL_CONNECTION_IDLE_CHECK_SECONDS = 10


def _drop_mail_connection() -> None:
    connection = getattr(_mail, "connection", None)
    _mail.connection = None
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - it is being thrown away
            logger.debug("closing a broken mail connection failed", exc_info=True)


def _send_email(message) -> None:
    """Send ``message`` on this thread's kept connection (``_mail``: each thread has its own
    backend from ``mailers.default``, so nothing here is shared between threads)."""
    backend = getattr(_mail, "connection", None)
    idle = time.monotonic() - getattr(_mail, "used_at", 0.0)
    if backend is not None and idle > MAIL_CONNECTION_IDLE_CHECK_SECONDS:
        # The server may have hung up on an idle connection: check before sending, so a
        # dead connection never looks like a failed delivery.
        smtp = getattr(backend, "connection", None)
        try:
            if smtp is not None and smtp.noop()[0] != 250:
                _drop_mail_connection()
        except (smtplib.SMTPException, OSError):
            _drop_mail_connection()
        backend = getattr(_mail, "connection", None)
    if backend is None:
        backend = mailers.default
        backend.open()
        _mail.connection = backend
    raw = message.smtp_bytes() if isinstance(backend, SmtpBackend) else None
    if raw is None:
        backend.send_messages([message])
    else:
        # What the SMTP backend's send_messages does, with the bytes of smtp_bytes() (see
        # NotificationEmail why). Django has no public way to hand its backend a message
        # already serialised: this uses the smtplib connection its open() keeps as
        # ``connection``, and smtplib's own sendmail.
        backend.open()
        backend.connection.sendmail(
            _envelope_address(backend, message.from_email),
            [_envelope_address(backend, address) for address in message.recipients()],
            raw,
        )
    _mail.used_at = time.monotonic()


_envelope_addresses: dict[str, str] = {}


def _envelope_address(connection, address: str) -> str:
    """The SMTP backend's ``prep_address`` (a full header parse), remembered per address."""
    prepared = _envelope_addresses.get(address)
    if prepared is None:
        if len(_envelope_addresses) > 10_000:
            _envelope_addresses.clear()
        prepared = _envelope_addresses[address] = connection.prep_address(address)
    return prepared


def _deliver(notification: Notification, delivery: Delivery) -> None:
    content = render(notification, delivery)
    if notification.channel == NotificationChannel.SMS:
        try:
            get_sms_backend().send(
                notification.recipient, content.sms, message_id=message_id(notification)
            )
        except SmsPermanentError as exc:
            raise PermanentFailure(f"Number refused: {exc}") from exc
        except (SmsTransientError, OSError, SoftTimeLimitExceeded) as exc:
            raise TransientFailure(f"SMS provider: {exc}") from exc
        return
    _deliver_email(email_message(notification, content))


def _deliver_email(message) -> None:
    try:
        _send_email(message)
    except (smtplib.SMTPException, OSError, SoftTimeLimitExceeded) as exc:
        _drop_mail_connection()
        raise _classify_smtp(exc) from exc


def _drop_database_connection() -> None:
    """Throw the connection away after a database error; the next statement opens a new
    one (Django's public ``close()``)."""
    try:
        connection.close()
    except DatabaseError:
        logger.debug("closing a broken database connection failed", exc_info=True)


def _retrying(statement_once, deadline: float):
    """``statement_once()``, retried with backoff (0.05 s doubling to 2 s) while the database
    fails it with a connection-level error (OperationalError, InterfaceError: a restart, a
    lost connection, a locked SQLite file) and ``deadline`` (monotonic) is not reached; the
    last error is raised then."""
    delay = 0.05
    while True:
        try:
            return statement_once()
        except (OperationalError, InterfaceError):
            if time.monotonic() + delay > deadline:
                raise
            _drop_database_connection()
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _record_sent(notification: Notification, attempt: int, deadline: float) -> bool:
    """Mark the row sent after the server accepted it, retrying while the database fails the
    UPDATE (until ``deadline``). From the first failure on, the acceptance is also kept as a
    marker outside the database, which the sweeper reads before it would send the row again.
    False only when the claim was lost (a bug or a lease shorter than the send) or the
    database never answered in time (the marker then stands in)."""
    pk, recipient = notification.pk, notification.recipient
    accepted_at = timezone.now()
    try:
        return _mark_sent(pk, attempt, recipient, accepted_at)
    except (OperationalError, InterfaceError):
        logger.warning("notification %s: delivered; recording it failed, retrying", pk)
        _remember_accepted(pk, attempt, recipient, accepted_at)
        _drop_database_connection()

    def once() -> bool:
        if _mark_sent(pk, attempt, recipient, accepted_at):
            return True
        # Nothing changed: an earlier try may have committed with its reply lost.
        return Notification.objects.filter(
            pk=pk, status=NotificationStatus.SENT, attempts=attempt
        ).exists()

    try:
        return _retrying(once, deadline)
    except (OperationalError, InterfaceError):
        logger.error("notification %s: delivered; left to the sweeper and its marker", pk)
        return False


def _staff_mail_or_reason(notification: Notification, kind) -> tuple[object, str]:
    """A staff mail's message, built now by its kind's ``compose``, or why not to send."""
    try:
        mail = kind.compose(notification.about_id)
    except staff_mail.NothingToSend as exc:
        return None, str(exc) or "It no longer applies."
    notification.recipient = mail.recipient  # the address on file now
    return staff_email_message(notification, mail), ""


def notification_send(pk: int) -> str:
    """Send one row if it is ours to send; return what happened ("sent", "skipped", "busy",
    "cancelled", "deferred", "retry", "failed"). Safe to call any number of times."""
    deadline = time.monotonic() + database_retry_seconds()
    notification = _retrying(lambda: _claim_for_sending(pk, timezone.now()), deadline)
    if notification is None:
        return "skipped"
    now = notification.attempt_started_at
    attempt = notification.attempts
    staff_kind = staff_mail.kind(notification.kind)
    notice_kind = registry.kind(notification.kind)
    reason = ""
    if staff_kind is not None:
        message, reason = _staff_mail_or_reason(notification, staff_kind)
        deliver = partial(_deliver_email, message)
    elif notice_kind is None or notification.patient is None:
        reason = f"No notice kind {notification.kind!r} is registered."
    else:
        try:
            delivery = notice_kind.compose(notification, now)
        except registry.NothingToSend as exc:
            reason = str(exc) or "It no longer applies."
        else:
            notification.recipient = delivery.recipient  # on file now, not when queued
            deliver = partial(_deliver, notification, delivery)
    if reason:
        _finish(
            pk,
            attempt,
            status=NotificationStatus.CANCELLED,
            last_error=reason,
            lease_until=None,
            attempt_started_at=None,
            payload={},
        )
        return "cancelled"
    waits_out_quiet_hours = notice_kind is None or notice_kind.quiet_hours
    if notification.channel == NotificationChannel.SMS and waits_out_quiet_hours:
        quiet_until = quiet_hours_end(notification.clinic, now)
        if quiet_until is not None:
            _finish(
                pk,
                attempt,
                status=NotificationStatus.PENDING,
                attempts=attempt - 1,  # waiting out quiet hours is not a failed try
                next_attempt_at=quiet_until,
                lease_until=None,
                attempt_started_at=None,
            )
            return "deferred"
    try:
        deliver()
    except PermanentFailure as exc:
        _finish(
            pk,
            attempt,
            status=NotificationStatus.FAILED,
            last_error=str(exc)[:2000],
            lease_until=None,
            attempt_started_at=None,
            payload={},
        )
        logger.warning("notification %s failed for good: %s", pk, exc)
        return "failed"
    except TransientFailure as exc:
        if attempt >= max_attempts():
            _finish(
                pk,
                attempt,
                status=NotificationStatus.FAILED,
                last_error=f"Gave up after {attempt} attempts: {exc}"[:2000],
                lease_until=None,
                attempt_started_at=None,
                payload={},
            )
            return "failed"
        _finish(
            pk,
            attempt,
            status=NotificationStatus.PENDING,
            last_error=str(exc)[:2000],
            next_attempt_at=timezone.now() + retry_delay(attempt),
            lease_until=None,
            attempt_started_at=None,
        )
        return "retry"
    # Straight after the server accepted it: the window described in the module docstring.
    if not _record_sent(notification, attempt, deadline):
        logger.error("notification %s was sent but is not marked sent by this task", pk)
    return "sent"


# ─── retry (clinic admin) ────────────────────────────────────────────────────────────────


@transaction.atomic
def notifications_retry(*, clinic_id: int, ids: list[int], by) -> int:
    """Put failed rows of ``clinic_id`` back to pending, due now, attempts reset. Rows of other
    clinics and rows that are not failed are left as they are. Returns how many moved."""
    from ipt_clinic.audit.services import AuditAction, audit_record

    now = timezone.now()
    rows = list(
        Notification.objects.filter(
            clinic_id=clinic_id, pk__in=ids, status=NotificationStatus.FAILED
        ).values_list("pk", "patient_id")
    )
    moved = Notification.objects.filter(
        clinic_id=clinic_id, pk__in=[pk for pk, _ in rows], status=NotificationStatus.FAILED
    ).update(
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=None,
        lease_until=None,
        attempt_started_at=None,
        due_at=now,
        updated_at=now,
    )
    for pk, patient_id in rows:
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=clinic_id,
            actor=by,
            patient_id=patient_id,
            summary=f"Notification {pk} queued again after failing",
        )
    return moved
