"""The therapist's side of portal links: see, create or replace, send, revoke; and marking
portal activity as seen on the therapist's home. Staff only, through the access helpers."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ipt_clinic.audit.services import AuditAction, audit_record
from patients.access import get_patient_for_user, get_scoped_or_404
from patients.models import PortalLink
from patients.portal_links import portal_link_revoke

from . import selectors, services
from .decorators import staff_view
from .forms import LinkCreateForm
from .qr import qr_data_uri


def _render_manage(request, patient, *, new_url: str | None = None, status: int = 200):
    return render(
        request,
        "portal/staff/link_manage.html",
        {
            "patient": patient,
            "links": selectors.portal_links_for_patient(patient),
            "form": LinkCreateForm(),
            "new_url": new_url,
            "new_qr": qr_data_uri(new_url) if new_url else None,
            "days_after_course": settings.PORTAL_LINK_DAYS_AFTER_COURSE,
        },
        status=status,
    )


@staff_view
@require_GET
def link_manage(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=patient.clinic_id,
        actor=request.user,
        patient_id=patient.pk,
        target=patient,
        summary="Viewed portal links",
        request=request,
    )
    return _render_manage(request, patient)


@staff_view
@require_POST
@never_cache
def link_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Make a new link (replacing any live one) and show it once: the token is not kept."""
    patient = get_patient_for_user(request.user, patient_id)
    form = LinkCreateForm(request.POST)
    send = form.is_valid() and form.cleaned_data["send"]
    _link, url, queued = services.portal_link_issue(
        patient=patient, by=request.user, send=send, request=request
    )
    if queued:
        messages.success(request, "New link made and queued to send to the patient.")
    elif send:
        messages.warning(
            request,
            "New link made, but it cannot be sent: the patient has no contact details for "
            "their preferred channel or has not agreed to messages. Copy it instead.",
        )
    else:
        messages.success(request, "New link made. Any earlier link has stopped working.")
    return _render_manage(request, patient, new_url=url)


@staff_view
@require_POST
def link_revoke(request: HttpRequest, patient_id: int, link_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    link = get_scoped_or_404(
        PortalLink.objects.filter(patient_id=patient.pk), request.user, link_id
    )
    portal_link_revoke(link=link, by=request.user, request=request)
    messages.success(request, "The link has stopped working.")
    return redirect("portal:link_manage", patient_id=patient.pk)


@staff_view
@require_POST
def activity_seen(request: HttpRequest) -> HttpResponse:
    services.caseload_mark_seen(user=request.user)
    return redirect("home")
