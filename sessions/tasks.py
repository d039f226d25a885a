"""Celery tasks of the outbox. Thin: each calls one function of ``sessions.notifications``.

Tasks take primary keys and re-read the row; running one twice is harmless.
"""

from celery import shared_task
from django.db import close_old_connections

from . import notifications


@shared_task(name="therapy.dispatch_due_notifications", ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat, every minute: claim due rows and enqueue one send per row."""
    close_old_connections()
    return notifications.notifications_dispatch_due()


@shared_task(name="therapy.sweep_stuck_notifications", ignore_result=True)
def sweep_stuck_notifications() -> int:
    """Beat: re-enqueue rows whose lease ran out while in "sending"."""
    close_old_connections()
    return notifications.notifications_sweep_stuck()


@shared_task(name="therapy.send_notification", ignore_result=True, acks_late=True)
def send_notification(notification_id: int) -> str:
    """Send one row. Retries are not Celery retries: a failed attempt puts the row back to
    pending with its next attempt time, and the dispatcher picks it up then."""
    close_old_connections()  # the worker keeps its connection: drop it if too old or broken
    return notifications.notification_send(notification_id)
