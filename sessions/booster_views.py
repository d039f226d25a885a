from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from patients.access import get_scoped_or_404
from patients.services import record_view
from phases.maintenance import booster_refusal, warning_signs
from phases.models import RelapsePreventionPlan, TreatmentCourse

from .booster_forms import BoosterForm
from .boosters import booster_book
from .display import day_and_time
from .forms import SlotForm


@login_required
def booster_book_view(request: HttpRequest, course_id: int) -> HttpResponse:
    """Book a booster session of a maintenance course, naming the warning sign that came
    back; 404 for any other course."""
    course = get_scoped_or_404(
        TreatmentCourse.objects.select_related("patient", "clinic", "therapist"),
        request.user,
        course_id,
        patient_path="patient",
    )
    if not course.is_maintenance:
        raise Http404("Not a maintenance course.")
    tz = course.clinic.tz
    plan = RelapsePreventionPlan.objects.filter(clinic_id=course.clinic_id, course=course).first()
    refusal = booster_refusal(course)
    form = BoosterForm(
        request.POST or None,
        tz=tz,
        signs=warning_signs(plan),
        initial=SlotForm.initial_for(None, tz, course.session_minutes, "in_person"),
    )
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            session = booster_book(
                course=course,
                start=form.cleaned_data["start"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                modality=form.cleaned_data["modality"],
                warning_sign=form.cleaned_data["warning_sign"],
                note=form.cleaned_data["note"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, list(error.messages))
        else:
            messages.success(
                request,
                "Booster session booked for "
                f"{day_and_time(session.scheduled_start, tz, weekday=True)}.",
            )
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        record_view(
            request=request,
            clinic_id=course.clinic_id,
            patient_id=course.patient_id,
            target=course,
            summary="Booster booking opened (the plan's warning signs shown)",
        )
    return render(
        request,
        "sessions/booster_form.html",
        {"course": course, "form": form, "refusal": refusal, "tz_name": tz.key, "plan": plan},
    )
