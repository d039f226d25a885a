"""A risk flag's page (where an alert's link lands after login), and acknowledging and closing
the flag, from that page, the session page, the course page or the session note."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ipt_clinic.audit.services import AuditAction, audit_record
from patients.access import scoped_to_user

from .forms import RiskResponseForm
from .models import Measure, RiskAction, SessionNote
from .risk import risk_flag_acknowledge, risk_flag_alerts, risk_flag_close


def get_risk_flag_for_user(user, measure_pk) -> Measure:
    """A flagged questionnaire the user may see: its patient's therapist, the clinic admins,
    and the clinic's duty contact when that is a member of staff (the alert reached them);
    404 for anyone else and for a questionnaire that raised no flag."""
    flags = Measure.objects.select_related(
        "course__patient", "course__clinic", "course__therapist", "session"
    ).filter(risk_flag=True)
    try:
        pk = int(measure_pk)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    measure = scoped_to_user(flags, user, "course__patient").filter(pk=pk).first()
    if measure is None and getattr(user, "clinic_id", None) and user.is_active:
        measure = flags.filter(
            clinic_id=user.clinic_id, pk=pk, course__clinic__duty_staff_id=user.pk
        ).first()
    if measure is None:
        raise Http404("Not found.")
    return measure


def _back(request: HttpRequest, measure: Measure) -> HttpResponse:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("therapy:risk_flag", measure_pk=measure.pk)


@login_required
@require_GET
def risk_flag(request: HttpRequest, measure_pk: int) -> HttpResponse:
    measure = get_risk_flag_for_user(request.user, measure_pk)
    patient = measure.course.patient
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=measure.clinic_id,
        actor=request.user,
        patient_id=patient.pk,
        target=measure,
        summary="Risk flag opened",
        request=request,
    )
    return render(
        request,
        "sessions/risk_flag.html",
        {
            "measure": measure,
            "patient": patient,
            "course": measure.course,
            "alerts": risk_flag_alerts(measure),
            "risk_actions": RiskAction.choices,
            "tz_name": measure.course.clinic.time_zone,
        },
    )


@login_required
@require_POST
def risk_acknowledge(request: HttpRequest, measure_pk: int) -> HttpResponse:
    measure = get_risk_flag_for_user(request.user, measure_pk)
    try:
        risk_flag_acknowledge(measure=measure, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Risk flag acknowledged: no escalation will follow.")
    return _back(request, measure)


@login_required
@require_POST
def risk_respond(request: HttpRequest, measure_pk: int) -> HttpResponse:
    """Close the flag with what was done; from the note, the note is recorded with it."""
    measure = get_risk_flag_for_user(request.user, measure_pk)
    form = RiskResponseForm(request.POST)
    if not form.is_valid():
        errors = [error for field in form.errors.values() for error in field]
        messages.error(request, " ".join(errors))
        return _back(request, measure)
    note = None
    if form.cleaned_data.get("note"):
        note = (
            SessionNote.objects.select_related("session")
            .filter(
                clinic_id=measure.clinic_id,
                pk=form.cleaned_data["note"],
                session__course__patient_id=measure.course.patient_id,
            )
            .first()
        )
    try:
        risk_flag_close(
            measure=measure,
            by=request.user,
            action=form.cleaned_data["action"],
            response=form.cleaned_data["response"],
            note=note,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Risk flag closed; what was done is on the record.")
    return _back(request, measure)
