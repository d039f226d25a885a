from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from patients.forms import add_service_errors
from patients.services import record_view

from .access import get_course_for_user
from .maintenance import carried_goals, maintenance_course_start, maintenance_refusal
from .maintenance_forms import MaintenanceStartForm


@login_required
def maintenance_start(request: HttpRequest, course_id: int) -> HttpResponse:
    """Maintenance IPT from a completed course: the contract, then its sessions booked as a
    series (the sessions app's page, opened with the contract's frequency)."""
    course = get_course_for_user(request.user, course_id)
    refusal = maintenance_refusal(course)
    goals = carried_goals(course)
    today = timezone.localdate(timezone=course.clinic.tz)
    form = MaintenanceStartForm(
        request.POST or None,
        goals=goals,
        initial={
            "start_date": today,
            "contract_agreed_on": today,
            "session_minutes": course.session_minutes,
            "goals": [goal.pk for goal in goals if goal.kept_by_default],
        },
    )
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            maintenance = maintenance_course_start(
                course=course,
                by=request.user,
                start_date=form.cleaned_data["start_date"],
                planned_sessions=form.cleaned_data["planned_sessions"],
                frequency=form.cleaned_data["frequency"],
                session_minutes=form.cleaned_data["session_minutes"],
                contract_agreed_on=form.cleaned_data["contract_agreed_on"],
                goal_ids=form.cleaned_data.get("goals", []),
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Maintenance IPT started: {maintenance.planned_sessions} sessions, "
                f"{maintenance.get_frequency_display().lower()}. Book them now.",
            )
            return redirect(reverse("therapy:book_series", args=[maintenance.pk]))
    if request.method == "GET":
        record_view(
            request=request,
            clinic_id=course.clinic_id,
            patient_id=course.patient_id,
            target=course,
            summary="Maintenance IPT start opened",
        )
    return render(
        request,
        "phases/maintenance_start.html",
        {"course": course, "patient": course.patient, "form": form, "refusal": refusal},
        status=409 if refusal and request.method == "POST" else 200,
    )
