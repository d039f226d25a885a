"""The operations panel: is the reminder machinery working for this clinic? And the staff
mails (invitations) it could not deliver, each with a button to send it again."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ipt_clinic.params import record_ids
from notifications.models import Heartbeat, Notification, NotificationStatus, notification_kinds
from notifications.outbox import STAFF_USER
from notifications.sending import notifications_retry

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
        "staff_failed": _staff_mail_failed(outbox),
        "beat": Heartbeat.objects.filter(name=BEAT_NAME).first(),
        "grace_minutes": int(DUE_GRACE.total_seconds() // 60),
    }


def _staff_mail_failed(outbox) -> list[dict]:
    """The clinic's failed staff mails (newest first), with their kind's label."""
    labels = dict(notification_kinds())
    rows = list(
        outbox.filter(about_type=STAFF_USER, status=NotificationStatus.FAILED)
        .order_by("-due_at", "-pk")
        .values("pk", "kind", "recipient", "due_at", "attempts", "last_error")[:LIST_LIMIT]
    )
    for row in rows:
        row["label"] = labels.get(row["kind"], row["kind"])
    return rows


def _notification_log_url() -> str | None:
    try:
        return reverse("caseload:notification_log")
    except NoReverseMatch:
        return None


@clinic_admin_required
def operations(request: HttpRequest) -> HttpResponse:
    context = operations_for_clinic(request.user.clinic_id)
    context["log_url"] = _notification_log_url()
    context["clinic"] = request.user.clinic
    return render(request, "caseload/operations.html", context)


@clinic_admin_required
@require_POST
def operations_resend(request: HttpRequest) -> HttpResponse:
    """Queue failed staff mails of the admin's clinic again (``ids``); anything else posted
    (another clinic's, not failed, a patient notice) is left as it is."""
    ids = record_ids(request.POST.getlist("ids"))
    staff_ids = list(
        Notification.objects.filter(
            clinic_id=request.user.clinic_id, about_type=STAFF_USER, pk__in=ids
        ).values_list("pk", flat=True)
    )
    moved = notifications_retry(clinic_id=request.user.clinic_id, ids=staff_ids, by=request.user)
    if moved:
        messages.success(request, f"{moved} staff mail(s) queued to be sent again.")
    else:
        messages.info(request, "Nothing to send again: only failed staff mails can be.")
    return redirect("caseload:operations")
