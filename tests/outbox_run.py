"""Running the outbox inside a test, as the beat and a worker would: for the tests of the
changes that put mail into it (invitations, reminders)."""


def deliver_due() -> list[str]:
    """Claim every due row (the dispatcher) and send each claimed row (the send task), in
    this process. Returns what each send did ("sent", "retry", ...), in row order.

    The dispatcher's enqueue runs on commit: inside a test's transaction it never does, and
    a test that commits (``transaction=True``) should capture it with the ``enqueued``
    fixture of ``tests/notifications/conftest.py``.
    """
    from notifications.models import Notification, NotificationStatus
    from notifications.sending import notification_send, notifications_dispatch_due

    notifications_dispatch_due()
    claimed = Notification.objects.filter(
        status=NotificationStatus.SENDING, attempt_started_at__isnull=True
    ).order_by("pk")
    return [notification_send(pk) for pk in claimed.values_list("pk", flat=True)]
