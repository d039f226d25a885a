"""Reads of the outbox, already filtered by clinic."""

from django.db.models import QuerySet

from .models import Notification


def notification_log(
    *, clinic_id: int, status: str = "", kind: str = "", channel: str = ""
) -> QuerySet[Notification]:
    """One clinic's notifications, newest due first, with the patient joined (one query)."""
    rows = Notification.objects.filter(clinic_id=clinic_id)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if channel:
        rows = rows.filter(channel=channel)
    return rows.select_related("patient").order_by("-due_at", "-id")
