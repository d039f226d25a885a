"""The operations panel: is the reminder machinery working for this clinic?"""

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sessions.models import Heartbeat, Notification, NotificationStatus

from .admin_access import clinic_admin_required

DUE_GRACE = timedelta(minutes=5)
BEAT_NAME = "dispatch"
LIST_LIMIT = 20


def operations_for_clinic(clinic_id: int, now=None) -> dict:
    """Failed and overdue outbox rows of the clinic, and the dispatcher's last run."""
    now = now or timezone.now()
    overdue = Q(status=NotificationStatus.PENDING, due_at__lt=now - DUE_GRACE)
    failed = Q(status=NotificationStatus.FAILED)
    outbox = Notification.objects.filter(clinic_id=clinic_id)
    figures = outbox.filter(failed | overdue).aggregate(
        failed=Count("pk", filter=failed),
        overdue=Count("pk", filter=overdue),
        oldest_overdue=Min("due_at", filter=overdue),
    )
    columns = (
        "pk",
        "kind",
        "channel",
        "due_at",
        "attempts",
        "last_error",
        "patient__record_number",
    )
    return {
        "now": now,
        "failed_count": figures["failed"],
        "overdue_count": figures["overdue"],
        "oldest_overdue": figures["oldest_overdue"],
        "failed": outbox.filter(failed).order_by("-due_at").values(*columns)[:LIST_LIMIT],
        "overdue": outbox.filter(overdue).order_by("due_at").values(*columns)[:LIST_LIMIT],
        "beat": Heartbeat.objects.filter(name=BEAT_NAME).first(),
        "grace_minutes": int(DUE_GRACE.total_seconds() // 60),
    }


def _notification_log_url() -> str | None:
    try:
        return reverse("therapy:notification_log")
    except NoReverseMatch:
        return None


@clinic_admin_required
def operations(request: HttpRequest) -> HttpResponse:
    context = operations_for_clinic(request.user.clinic_id)
    context["log_url"] = _notification_log_url()
    context["clinic"] = request.user.clinic
    return render(request, "caseload/operations.html", context)
