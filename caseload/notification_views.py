"""The clinic admin's notification log: every notice of their clinic, with a retry for the
failed ones. Anyone who is not an active clinic admin gets 404."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ipt_clinic.params import record_ids
from notifications.models import NotificationChannel, NotificationStatus, notification_kinds
from notifications.selectors import notification_log
from notifications.sending import notifications_retry

from .admin_access import clinic_admin_required

_SAFE_QUERY = re.compile(r"\?[A-Za-z0-9_=&-]*")


def _choice(value: str | None, choices: list[tuple[str, str]]) -> str:
    return value if value in {choice for choice, _ in choices} else ""


@require_GET
@clinic_admin_required
def notification_log_view(request: HttpRequest) -> HttpResponse:
    kinds = notification_kinds()
    filters = {
        "status": _choice(request.GET.get("status"), NotificationStatus.choices),
        "kind": _choice(request.GET.get("kind"), kinds),
        "channel": _choice(request.GET.get("channel"), NotificationChannel.choices),
    }
    rows = notification_log(clinic_id=request.user.clinic_id, **filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = "&".join(f"{name}={value}" for name, value in filters.items() if value)
    return render(
        request,
        "caseload/notification_log.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "clinic": request.user.clinic,
            "statuses": NotificationStatus.choices,
            "kinds": kinds,
            "channels": NotificationChannel.choices,
        },
    )


@require_POST
@clinic_admin_required
def notification_retry(request: HttpRequest) -> HttpResponse:
    ids = record_ids(request.POST.getlist("ids"))
    moved = notifications_retry(clinic_id=request.user.clinic_id, ids=ids, by=request.user)
    if moved:
        messages.success(request, f"{moved} notification(s) queued to be sent again.")
    else:
        messages.info(request, "Nothing to retry: only failed notifications can be sent again.")
    back = request.POST.get("back", "")
    target = reverse("caseload:notification_log")
    if _SAFE_QUERY.fullmatch(back):
        target += back
    return redirect(target)
