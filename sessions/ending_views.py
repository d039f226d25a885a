"""The confirmation pages in front of every ending (issue 19, point 2): completing a course,
a drop-out, discharging or archiving the patient. The GET lists what the ending will cancel
(``services.ending_plan``); the form posts to the view that ends it, whose service cancels
the same things in its own transaction."""

from django.contrib.auth.decorators import login_required
from django.forms import HiddenInput
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from patients.access import get_patient_for_user
from patients.models import PatientStatus
from patients.services import record_view
from phases.access import get_course_for_user
from phases.forms import AdvanceForm, DropOutForm
from phases.models import CourseStatus, Phase
from phases.services import exit_criteria

from . import services

COURSE_ENDINGS = {
    "complete": ("Complete the course", "phases:advance"),
    "drop-out": ("Record a drop-out", "phases:drop_out"),
}
PATIENT_ENDINGS = {
    "discharge": ("Discharge", "patients:discharge", {PatientStatus.ACTIVE}),
    "archive": ("Archive", "patients:archive", {PatientStatus.ACTIVE, PatientStatus.DISCHARGED}),
}


def _render(request: HttpRequest, *, patient, course, title: str, action: str, form, plan):
    return render(
        request,
        "sessions/ending_confirm.html",
        {
            "patient": patient,
            "course": course,
            "title": title,
            "action": action,
            "form": form,
            "plan": plan,
        },
    )


@login_required
@require_GET
def course_end_confirm(request: HttpRequest, course_id: int, ending: str) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    if ending not in COURSE_ENDINGS:
        raise Http404("No such ending.")
    if course.status != CourseStatus.ACTIVE or (
        ending == "complete" and course.phase != Phase.TERMINATION
    ):
        return redirect("phases:course", course_id=course.pk)
    title, url_name = COURSE_ENDINGS[ending]
    if ending == "complete":
        form = AdvanceForm(initial={"expected_phase": course.phase})
        if not exit_criteria(course):
            form.fields["override_reason"].widget = HiddenInput()
    else:
        form = DropOutForm()
    record_view(
        request=request,
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        target=course,
        summary=f"{title}: confirmation opened",
    )
    plan = services.ending_plan(clinic_id=course.clinic_id, course_ids=[course.pk])
    return _render(
        request,
        patient=course.patient,
        course=course,
        title=title,
        action=reverse(url_name, kwargs={"course_id": course.pk}),
        form=form,
        plan=plan,
    )


@login_required
@require_GET
def patient_end_confirm(request: HttpRequest, patient_id: int, ending: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    if ending not in PATIENT_ENDINGS:
        raise Http404("No such ending.")
    title, url_name, allowed_from = PATIENT_ENDINGS[ending]
    if patient.status not in allowed_from:
        return redirect("patients:detail", patient_id=patient.pk)
    record_view(
        request=request,
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        target=patient,
        summary=f"{title}: confirmation opened",
    )
    plan = services.ending_plan(
        clinic_id=patient.clinic_id,
        course_ids=list(patient.courses.values_list("pk", flat=True)),
    )
    return _render(
        request,
        patient=patient,
        course=None,
        title=title,
        action=reverse(url_name, kwargs={"patient_id": patient.pk}),
        form=None,
        plan=plan,
    )
