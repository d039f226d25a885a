"""Celery tasks of the outbox. Thin: each calls one function of ``notifications.sending``.

The task names were "therapy.*" while the outbox lived in the sessions app: a message of the
old name left in the broker at an upgrade is not lost, because its row stays "sending" until
its lease runs out and the sweeper enqueues it again under the new name.

Tasks take primary keys and re-read the row; running one twice is harmless.
"""

import time

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connections

from . import sending


@shared_task(name="notifications.dispatch_due_notifications", ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat, every minute: claim due rows and enqueue one send per row."""
    close_old_connections()
    return sending.notifications_dispatch_due()


@shared_task(name="notifications.sweep_stuck_notifications", ignore_result=True)
def sweep_stuck_notifications() -> int:
    """Beat: re-enqueue rows whose lease ran out while in "sending"."""
    close_old_connections()
    return sending.notifications_sweep_stuck()


# The send's own time limits, shorter than the other tasks': the lease a sender holds must
# outlast the hard one (settings check it), and a short lease is what brings a dead worker's
# rows back within a minute. A send is a claim, one SMTP exchange and an UPDATE.
@shared_task(
    name="notifications.send_notification",
    ignore_result=True,
    acks_late=True,
    time_limit=settings.NOTIFICATION_SEND_TIME_LIMIT,
    soft_time_limit=settings.NOTIFICATION_SEND_TIME_LIMIT * 0.8,
)
def send_notification(notification_id: int) -> str:
    """Send one row. Retries are not Celery retries: a failed attempt puts the row back to
    pending with its next attempt time, and the dispatcher picks it up then."""
    _drop_old_connections()
    return sending.notification_send(notification_id)


BUSY_SECONDS = 1.0
_last_send_at = 0.0


def _drop_old_connections() -> None:
    """``close_old_connections()`` (the worker keeps its connection: drop it if too old or
    broken), without the health check's extra "SELECT 1" round trip when the previous send
    used the connection less than a second ago and raised no database error. A connection
    that died since then fails the claim, which changes nothing: the row waits for its lease
    and the sweeper, and the failed statement marks the connection to be dropped next time."""
    global _last_send_at
    now = time.monotonic()
    busy = now - _last_send_at < BUSY_SECONDS
    _last_send_at = now
    close_old_connections()
    if busy:
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None and not connection.errors_occurred:
                connection.health_check_done = True
