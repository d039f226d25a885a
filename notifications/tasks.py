"""Celery tasks of the outbox. Thin: each calls one function of ``notifications.sending``.

The task names were "therapy.*" while the outbox lived in the sessions app: a message of the
old name left in the broker at an upgrade is not lost, because its row stays "sending" until
its lease runs out and the sweeper enqueues it again under the new name.

Tasks take primary keys and re-read the row; running one twice is harmless.
"""

from django.conf import settings
from django.db import close_old_connections

from ipt_clinic.celery import app

from . import sending


@app.task(name="notifications.dispatch_due_notifications", ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat, every minute: claim due rows and enqueue one send per row."""
    close_old_connections()
    return sending.notifications_dispatch_due()


@app.task(name="notifications.sweep_stuck_notifications", ignore_result=True)
def sweep_stuck_notifications() -> int:
    """Beat: re-enqueue rows whose lease ran out while in "sending"."""
    close_old_connections()
    return sending.notifications_sweep_stuck()


# The send's own time limits, shorter than the other tasks': the lease a sender holds must
# outlast the hard one (settings check it), and a short lease is what brings a dead worker's
# rows back within a minute. A send is a claim, one SMTP exchange and an UPDATE.
@app.task(
    name="notifications.send_notification",
    ignore_result=True,
    acks_late=True,
    time_limit=settings.NOTIFICATION_SEND_TIME_LIMIT,
    soft_time_limit=settings.NOTIFICATION_SEND_TIME_LIMIT * 0.8,
)
def send_notification(notification_id: int) -> str:
    """Send one row. Retries are not Celery retries: a failed attempt puts the row back to
    pending with its next attempt time, and the dispatcher picks it up then."""
    # The worker keeps its connection (CONN_MAX_AGE); Django drops it when too old or
    # broken and checks it before this task's first statement (CONN_HEALTH_CHECKS). That
    # "SELECT 1" per send measured within the noise of a send's CPU (issue 18).
    close_old_connections()
    return sending.notification_send(notification_id)
