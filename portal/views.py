"""The patient portal. Every view goes through ``portal_page`` (or ``portal_response`` for the
token exchange): the patient is ``request.patient``, and every read is scoped to them."""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.client_address import client_address
from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from patients.portal_links import (
    PortalLinkExpired,
    PortalLinkInvalid,
    portal_link_touch,
    portal_link_verify,
)
from phases.formulation_sharing import ANSWER_FORM, formulation_answer_record
from phases.models import CourseStatus
from sessions.homework import (
    KIND_FIELDS,
    assignment_entries,
    entries_editable,
    entry_form_binding,
    homework_entry_add,
    homework_entry_edit,
)
from sessions.measures import measure_form_binding
from sessions.risk import risk_alerted
from sessions.scoring import INSTRUMENTS, SYMPTOM_INSTRUMENTS

from . import selectors, services
from .charts import WSAS as WSAS_SCALE
from .charts import band_words, instrument_name, progress_chart_svg
from .decorators import (
    PORTAL_LINK_SESSION_KEY,
    PORTAL_SESSION_SECONDS,
    portal_expired,
    portal_not_found,
    portal_page,
    portal_response,
)
from .forms import (
    FormulationAnswerForm,
    HomeworkForm,
    LostLinkForm,
    QuestionnaireForm,
    answers_slot,
)
from .homework_forms import HomeworkEntryForm
from .ics import session_ics
from .lost_link import (
    answer_after,
    lost_link_address_allowed,
    lost_link_address_refused,
    lost_link_request,
)
from .throttle import bad_token_record, bad_token_retry_after

logger = logging.getLogger(__name__)

KEY_REFUSED = _lazy(
    "Your answers were not sent: this page was out of date or meant for another "
    "questionnaire. Your answers are still below. Please check them and press "
    "“Send my answers” again."
)

ENTRY_KEY_REFUSED = _lazy(
    "Your entry was not saved: this page was out of date. What you wrote is still below. "
    "Please check it and press “Save this entry” again."
)
ENTRY_CHANGED_MEANWHILE = _lazy(
    "This entry was changed in another window since you opened it, so nothing was saved. "
    "What you wrote is still below; saving again will keep it."
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
        {"clinic": patient.clinic, "patient": patient, "summary": selectors.portal_home(patient)},
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
        {"clinic": patient.clinic, "homework": selectors.portal_homework(patient)},
    )


def _entry_form(assignment, data=None, *, entry=None, **kwargs) -> HomeworkEntryForm:
    """The add-an-entry form (with its one-time key) or, given ``entry``, the form changing
    it (with its version), bounded by the clinic's today and the day the homework was set."""
    tz = assignment.clinic.tz
    set_at = assignment.session.scheduled_start if assignment.session_id else None
    earliest = timezone.localtime(set_at or assignment.created_at, tz).date()
    if entry is None:
        kwargs["form_binding"] = entry_form_binding(assignment)
    else:
        kwargs["version"] = entry.version
        kwargs["initial"] = {name: getattr(entry, name) for name in KIND_FIELDS[entry.kind]}
    return HomeworkEntryForm(
        data,
        kind=assignment.kind,
        today=timezone.localdate(timezone=tz),
        earliest=earliest,
        **kwargs,
    )


def _homework_page(request, assignment, *, status_form=None, form=None):
    editable = entries_editable(assignment)
    if status_form is None and editable:
        initial = {}
        if assignment.status in services.PATIENT_CLOSABLE:
            initial = {"status": assignment.status, "reflection": assignment.reflection}
        status_form = HomeworkForm(initial=initial)
    if form is None and editable:
        form = _entry_form(assignment)
    return render(
        request,
        "portal/homework_detail.html",
        {
            "clinic": request.patient.clinic,
            "assignment": assignment,
            "entries": assignment_entries(assignment),
            "form": form,  # the entry form
            "status_form": status_form,
            "can_answer": editable,
            "reviewed_on": (
                timezone.localtime(assignment.reviewed_in.scheduled_start, assignment.clinic.tz)
                if assignment.reviewed_in_id
                else None
            ),
        },
    )


@portal_page
@require_http_methods(["GET", "POST"])
def homework_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """The homework's page: its instructions, the patient's entries to reread (each with a way
    to change it), the form of its kind to add one, and done / not done. Once the therapist
    has reviewed it in a session, all of it is read-only."""
    patient = request.patient
    assignment = selectors.portal_get_assignment(patient, assignment_id)
    if request.method == "GET":
        return _homework_page(request, assignment)
    if not entries_editable(assignment):
        raise Http404
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
    return _homework_page(request, assignment, status_form=form)


@portal_page
@require_POST
def homework_entry_new(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Add an entry from the homework's page; on a refusal the page comes back with what was
    typed still in the form."""
    patient = request.patient
    assignment = selectors.portal_get_assignment(patient, assignment_id)
    entry_form = _entry_form(assignment, request.POST)
    if entry_form.is_valid():
        try:
            homework_entry_add(
                assignment=assignment,
                values=entry_form.answers(),
                form_key=entry_form.cleaned_data["form_key"],
                request=request,
            )
        except AlreadySaved:
            messages.info(request, _("This entry was already saved, so it was not added twice."))
            return redirect("portal:homework_detail", assignment_id=assignment.pk)
        except SubmissionRefused as error:
            entry_form.refuse(error, ENTRY_KEY_REFUSED)
        except ValidationError as error:
            _add_entry_errors(entry_form, error)
        else:
            messages.success(
                request, _("Saved. You can read it below, and change it until your next session.")
            )
            return redirect("portal:homework_detail", assignment_id=assignment.pk)
    assignment.refresh_from_db()
    return _homework_page(request, assignment, form=entry_form)


@portal_page
@require_http_methods(["GET", "POST"])
def homework_entry_change(request: HttpRequest, assignment_id: int, entry_id: int) -> HttpResponse:
    """Change one entry, until the therapist has reviewed the homework."""
    patient = request.patient
    assignment = selectors.portal_get_assignment(patient, assignment_id)
    entry = selectors.portal_get_homework_entry(assignment, entry_id)
    form = _entry_form(assignment, request.POST or None, entry=entry)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            homework_entry_edit(
                entry=entry,
                values=form.answers(),
                expected_version=form.expected_version,
                request=request,
            )
        except StaleEditError as error:
            form.show_conflict(error.current)
            form.add_error(None, ENTRY_CHANGED_MEANWHILE)
            status = 409
        except ValidationError as error:
            _add_entry_errors(form, error)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect("portal:homework_detail", assignment_id=assignment.pk)
    return render(
        request,
        "portal/homework_entry.html",
        {
            "clinic": patient.clinic,
            "assignment": assignment,
            "entry": entry,
            "form": form,
            "can_answer": entries_editable(assignment),
        },
        status=status,
    )


def _add_entry_errors(form, error: ValidationError) -> None:
    """A refusal of the service on the form: a day already taken next to the day, anything
    else (the homework reviewed meanwhile) above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


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
        {
            "clinic": patient.clinic,
            "form": form,
            "spec": form.spec,
            "course": course,
            "due": instrument == "phq9" and selectors.portal_phq9_due(patient, course),
        },
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
            # The answers this tab kept while they were typed are sent: forget them.
            "answers_slot": answers_slot(
                measure_form_binding(
                    measure.instrument, patient_id=patient.pk, clinic_id=patient.clinic_id
                )
            ),
        },
    )


@portal_page
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    patient = request.patient
    progress = selectors.portal_progress(patient)
    instruments = [
        {
            "code": code,
            "name": instrument_name(code),
            "rows": [(m, band_words(m.severity)) for m in progress.of(code)],
            "bands": [(low, high, band_words(label)) for low, high, label in spec.bands],
        }
        for code, spec in INSTRUMENTS.items()
    ]
    tz = patient.clinic.tz
    symptoms = [m for m in progress.measures if m.instrument in SYMPTOM_INSTRUMENTS]
    wsas = progress.of("wsas")
    return render(
        request,
        "portal/progress.html",
        {
            "clinic": patient.clinic,
            "progress": progress,
            "instruments": instruments,
            "chart": progress_chart_svg(symptoms, tz=tz) if symptoms else None,
            # The WSAS on its own scale (0-40), in a chart of its own.
            "wsas_chart": (
                progress_chart_svg(wsas, tz=tz, chart_id="progress-wsas", scale=WSAS_SCALE)
                if wsas
                else None
            ),
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
@require_http_methods(["GET", "POST"])
def agreed(request: HttpRequest) -> HttpResponse:
    """What we agreed: the formulation in the patient's words once shared (with their answer),
    their problem areas and goals, how far the course has come and the next appointment."""
    patient = request.patient
    agreement = selectors.portal_agreement(patient)
    form = None
    if agreement.can_answer:
        form = FormulationAnswerForm(
            request.POST if request.method == "POST" else None,
            form_binding=ANSWER_FORM.bind(agreement.share),
        )
    if request.method == "POST":
        if form is None:
            messages.info(request, _("This is no longer shared with you."))
            return redirect("portal:agreed")
        if form.is_valid():
            try:
                formulation_answer_record(
                    share=agreement.share,
                    patient_id=patient.pk,
                    answer=form.cleaned_data["answer"],
                    comment=form.cleaned_data["comment"],
                    form_key=form.cleaned_data["form_key"],
                    request=request,
                )
            except AlreadySaved:
                messages.success(request, _("Thank you. Your answer was already sent."))
                return redirect("portal:agreed")
            except SubmissionRefused as error:
                form.refuse(
                    error,
                    _(
                        "Your answer was not sent: the text above may have changed since you "
                        "opened this page. Please read it again; what you wrote is still below."
                    ),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Thank you. Your therapist will see your answer."))
                return redirect("portal:agreed")
    return render(
        request,
        "portal/agreed.html",
        {"clinic": patient.clinic, "agreement": agreement, "form": form},
    )


@portal_page
@require_GET
def about_ipt(request: HttpRequest) -> HttpResponse:
    """What IPT is, its four phases, and what the patient's current phase is for."""
    patient = request.patient
    course = selectors.portal_latest_course(patient)
    return render(
        request,
        "portal/about_ipt.html",
        {
            "clinic": patient.clinic,
            "phase": course.phase if course and course.status == CourseStatus.ACTIVE else "",
            "course": course,
        },
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


@portal_response
@require_http_methods(["GET", "POST"])
def lost_link(request: HttpRequest) -> HttpResponse:
    """“Lost your link?”: the patient types the email address or phone number on file. Every
    accepted request, matched or not, throttled or not, takes the same least time and ends on
    the same page (``portal.lost_link``)."""
    started = time.monotonic()
    form = LostLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if lost_link_address_allowed(request):
            lost_link_request(contact=form.cleaned_data["contact"], request=request)
        else:
            lost_link_address_refused(request)
        answer_after(started)
        return redirect("portal:lost_link_asked")
    return render(request, "portal/lost_link.html", {"form": form})


@portal_response
@require_GET
def lost_link_asked(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/lost_link_asked.html")
