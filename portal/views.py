"""The patient portal. Every view goes through ``portal_page`` (or ``portal_response`` for the
token exchange): the patient is ``request.patient``, and every read is scoped to them."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.client_address import client_address
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from patients.portal_links import (
    PortalLinkExpired,
    PortalLinkInvalid,
    portal_link_touch,
    portal_link_verify,
)
from sessions.measures import measure_form_binding
from sessions.risk import risk_alerted
from sessions.scoring import INSTRUMENTS

from . import selectors, services
from .decorators import (
    PORTAL_LINK_SESSION_KEY,
    PORTAL_SESSION_SECONDS,
    portal_expired,
    portal_not_found,
    portal_page,
    portal_response,
)
from .forms import HomeworkForm, QuestionnaireForm
from .ics import session_ics
from .throttle import bad_token_record, bad_token_retry_after

logger = logging.getLogger(__name__)

KEY_REFUSED = gettext_lazy(
    "Your answers were not sent: this page was out of date or meant for another "
    "questionnaire. Your answers are still below. Please check them and press "
    "“Send my answers” again."
)


@portal_response
@require_http_methods(["GET", "POST"])
def exchange(request: HttpRequest, token: str) -> HttpResponse:
    """The personal link. A GET only shows a page with one button, "Open my page": a mail
    scanner or a link preview that fetches the link opens nothing, marks nothing used and
    touches no session. The button's POST trades the token for a portal session, then leaves
    the token out of the address.

    A browser holding a staff session keeps it and is told to use a private window (403):
    the portal is not opened there, see ``_staff_browser``."""
    try:
        link = portal_link_verify(token)
    except PortalLinkInvalid as invalid:
        # Only wrong tokens are throttled: a live link opens whatever its address has sent.
        retry_after = bad_token_retry_after(request)
        if retry_after is not None:
            response = render(request, "portal/too_many.html", status=429)
            response["Retry-After"] = str(retry_after)
            return response
        bad_token_record(request)
        if invalid.link is not None:
            _audit_link(request, invalid.link, "Revoked portal link used")
        else:
            logger.info("Unknown portal token from %s", client_address(request))
        return portal_not_found(request)
    except PortalLinkExpired as expired:
        _audit_link(request, expired.link, "Expired portal link used")
        return portal_expired(request, expired.link)
    if request.user.is_authenticated:
        return _staff_browser(request, link)
    if request.method == "GET":
        _audit_link(request, link, "Personal link followed; its landing page shown")
        return render(request, "portal/landing.html", {"clinic": link.patient.clinic})
    # A new session (new key): nothing from before carries over.
    request.session.flush()
    request.session[PORTAL_LINK_SESSION_KEY] = link.pk
    request.session.set_expiry(PORTAL_SESSION_SECONDS)
    portal_link_touch(link)
    _audit_link(request, link, "Portal opened with the personal link")
    return redirect("portal:home")


def _staff_browser(request: HttpRequest, link) -> HttpResponse:
    """A patient's link followed in a browser where staff are signed in. Opening the portal
    there would have to end the staff session (one session per browser, and a staff session
    never carries a portal identity): a clinician checking a link loses unsaved work and is
    logged out. Keeping both in one browser instead would put a patient's page and the
    clinical record one cookie apart, each ended by the other's logout, and the audit trail
    could not tell the patient's actions from the clinician's. So neither is touched: the
    page says so and points to a private window, where the link opens as the patient's."""
    audit_record(
        action=AuditAction.PORTAL_ACCESS,
        clinic_id=link.clinic_id,
        actor=request.user,
        patient_id=link.patient_id,
        target=link,
        summary="Personal link followed in a staff session; not opened there",
        request=request,
    )
    with translation.override(settings.LANGUAGE_CODE):  # staff read the clinic's language
        return render(
            request,
            "portal/landing.html",
            {"clinic": link.patient.clinic, "staff_session": True},
            status=403,
        )


def _audit_link(request, link, summary: str) -> None:
    audit_record(
        action=AuditAction.PORTAL_ACCESS,
        clinic_id=link.clinic_id,
        actor_kind="patient",
        patient_id=link.patient_id,
        target=link,
        summary=summary,
        request=request,
    )


@portal_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    patient = request.patient
    return render(
        request,
        "portal/home.html",
        {
            "clinic": patient.clinic,
            "patient": patient,
            "next_session": selectors.portal_upcoming_sessions(patient).first(),
            "homework_count": selectors.portal_current_assignments(patient).count(),
            "summary": selectors.portal_home(patient),
        },
    )


@portal_page
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    patient = request.patient
    return render(
        request,
        "portal/sessions.html",
        {"clinic": patient.clinic, "sessions": selectors.portal_upcoming_sessions(patient)},
    )


@portal_page
@require_GET
def session_ics_download(request: HttpRequest, session_id: int) -> HttpResponse:
    patient = request.patient
    session = selectors.portal_get_upcoming_session(patient, session_id)
    response = HttpResponse(
        session_ics(session, patient.clinic.name), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="appointment-{session.scheduled_start:%Y-%m-%d}.ics"'
    )
    return response


@portal_page
@require_GET
def homework(request: HttpRequest) -> HttpResponse:
    patient = request.patient
    return render(
        request,
        "portal/homework.html",
        {
            "clinic": patient.clinic,
            "current": selectors.portal_current_assignments(patient),
            "past": selectors.portal_past_assignments(patient),
        },
    )


@portal_page
@require_http_methods(["GET", "POST"])
def homework_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    patient = request.patient
    assignment = selectors.portal_get_assignment(patient, assignment_id)
    can_answer = assignment.reviewed_in_id is None
    if request.method == "POST" and can_answer:
        form = HomeworkForm(request.POST)
        if form.is_valid():
            try:
                services.assignment_close_by_patient(
                    assignment=assignment,
                    status=form.cleaned_data["status"],
                    reflection=form.cleaned_data["reflection"],
                    link=request.portal_link,
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Thank you. Your therapist will see this."))
                return redirect("portal:homework")
    elif request.method == "POST":
        raise Http404
    else:
        initial = {}
        if assignment.status in services.PATIENT_CLOSABLE:
            initial = {"status": assignment.status, "reflection": assignment.reflection}
        form = HomeworkForm(initial=initial)
    return render(
        request,
        "portal/homework_detail.html",
        {
            "clinic": patient.clinic,
            "assignment": assignment,
            "form": form,
            "can_answer": can_answer,
        },
    )


@portal_page
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, instrument: str) -> HttpResponse:
    patient = request.patient
    if instrument not in INSTRUMENTS:
        raise Http404
    course = selectors.portal_active_course(patient)
    form = QuestionnaireForm(
        request.POST or None,
        instrument=instrument,
        form_binding=measure_form_binding(
            instrument, patient_id=patient.pk, clinic_id=patient.clinic_id
        ),
    )
    if request.method == "POST" and course is not None and form.is_valid():
        try:
            measure = services.self_report_record(
                patient=patient,
                course=course,
                instrument=instrument,
                answers=form.answers(),
                form_key=form.cleaned_data["form_key"],
                request=request,
            )
        except AlreadySaved as saved:
            # Sent twice (a double tap, a retry): the thank-you page of the first sending.
            return redirect("portal:questionnaire_thanks", measure_id=saved.record.pk)
        except SubmissionRefused as error:
            form.refuse(error, KEY_REFUSED)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("portal:questionnaire_thanks", measure_id=measure.pk)
    return render(
        request,
        "portal/questionnaire.html",
        {"clinic": patient.clinic, "form": form, "spec": form.spec, "course": course},
    )


@portal_page
@require_GET
def questionnaire_thanks(request: HttpRequest, measure_id: int) -> HttpResponse:
    patient = request.patient
    measure = selectors.portal_get_self_report(patient, measure_id)
    return render(
        request,
        "portal/questionnaire_thanks.html",
        {
            "clinic": patient.clinic,
            "measure": measure,
            "crisis": measure.risk_flag,
            "alerted": risk_alerted(measure) if measure.risk_flag else {},
        },
    )


@portal_page
@require_GET
def plan(request: HttpRequest) -> HttpResponse:
    patient = request.patient
    return render(
        request,
        "portal/plan.html",
        {"clinic": patient.clinic, "plan": selectors.portal_relapse_plan(patient)},
    )


@portal_page
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    clinic = request.patient.clinic
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=request.portal_link.clinic_id,
        actor_kind="patient",
        patient_id=request.patient.pk,
        target=request.portal_link,
        summary="Left the portal",
        request=request,
    )
    request.session.flush()
    return render(request, "portal/left.html", {"clinic": clinic})
