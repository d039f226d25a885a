from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from patients.access import get_patient_for_user
from patients.forms import add_service_errors
from patients.services import record_view

from . import formulation_sharing, page_reads, panels, selectors, services
from .access import (
    get_course_for_user,
    get_goal_for_user,
    get_problem_area_for_user,
)
from .dispute_history import stage_history_svg
from .forms import (
    AdvanceForm,
    CourseForm,
    DisputeStageForm,
    DropOutForm,
    EndingForm,
    FormulationForm,
    GoalForm,
    MidCourseReviewForm,
    MoveBackForm,
    PatientFormulationForm,
    ProblemAreaForm,
    RelapsePlanForm,
)
from .models import (
    CourseStatus,
    DisputeStageEntry,
    MidCourseReview,
    Phase,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    phase_order,
)


def _audit_view(request: HttpRequest, course, summary: str, target=None) -> None:
    record_view(
        request=request,
        clinic_id=course.clinic_id,
        patient_id=course.patient_id,
        target=target or course,
        summary=summary,
    )


def _render_course(request: HttpRequest, course, *, status: int = 200, **forms) -> HttpResponse:
    page = selectors.course_page(course)
    for form in forms.values():
        if form.is_bound and "expected_phase" in form.fields:
            # Keep what was typed, but the next submission is about the phase shown now.
            form.data = form.data.copy()
            form.data["expected_phase"] = course.phase
    active = course.status == CourseStatus.ACTIVE
    context = {
        "course": course,
        "patient": course.patient,
        "advance_form": forms.get("advance_form")
        or (AdvanceForm(initial={"expected_phase": course.phase}) if active else None),
        "move_back_form": forms.get("move_back_form")
        or (
            MoveBackForm(course=course, initial={"expected_phase": course.phase})
            if active and course.phase != phase_order(course)[0]
            else None
        ),
        "drop_out_form": forms.get("drop_out_form") or (DropOutForm() if active else None),
        **page,
    }
    context["course_panels"] = [
        render_to_string(
            panel.template,
            {**context, **panel.context(course, transitions=page.get("transitions"))},
            request=request,
        )
        for panel in panels.course_panels()
    ]
    return render(request, "phases/course.html", context, status=status)


@login_required
def course_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = CourseForm(request.POST or None, initial={"start_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(
                patient=patient, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "IPT course started: initial assessment.")
            return redirect("phases:course", course_id=course.pk)
    active = patient.courses.filter(status=CourseStatus.ACTIVE).first()
    return render(
        request,
        "phases/course_form.html",
        {"form": form, "patient": patient, "course": None, "active_course": active},
    )


@login_required
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    # Its fixed statement (``page_reads``), the bench's course page target needs it; the
    # ORM's reading it stands for is ``access.get_course_page_for_user``.
    course = page_reads.course_page_course(request.user, course_id)
    _audit_view(request, course, "Course page viewed")
    return _render_course(request, course)


@login_required
def course_edit(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    form = CourseForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(
                course=course,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Contract saved.")
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Course contract opened for editing")
    return render(
        request,
        "phases/course_form.html",
        {"form": form, "patient": course.patient, "course": course},
        status=409 if form.conflict else 200,
    )


@login_required
def course_formulation(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    form = FormulationForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(
                course=course,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Formulation saved.")
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Formulation opened for editing")
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": "Interpersonal formulation",
        },
        status=409 if form.conflict else 200,
    )


@login_required
def formulation_for_patient(request: HttpRequest, course_id: int) -> HttpResponse:
    """The formulation in the patient's words: saved as a draft, or shared in the portal."""
    course = get_course_for_user(request.user, course_id)
    form = PatientFormulationForm(request.POST or None, instance=course)
    share = request.POST.get("action") == "share"
    if request.method == "POST" and form.is_valid():
        save = (
            formulation_sharing.formulation_share
            if share
            else (formulation_sharing.patient_formulation_save)
        )
        try:
            save(
                course=course,
                by=request.user,
                text=form.cleaned_data["patient_formulation"],
                expected_version=form.expected_version,
                request=request,
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if share:
                messages.success(
                    request,
                    f"Shared with {course.patient.first_name}: they can read it in their "
                    "portal under “What we agreed” and tell you whether they agree.",
                )
            else:
                messages.success(request, "Saved. What the patient sees has not changed.")
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Formulation in the patient's words opened for editing")
    return render(
        request,
        "phases/formulation_for_patient.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "shared": formulation_sharing.shared_formulation(course),
        },
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def formulation_withdraw(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    if formulation_sharing.formulation_withdraw(course=course, by=request.user, request=request):
        messages.success(
            request, f"No longer shared: {course.patient.first_name}'s portal does not show it."
        )
    else:
        messages.info(request, "The formulation was not shared.")
    return redirect("phases:course", course_id=course.pk)


@login_required
@require_POST
def course_advance(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    form = AdvanceForm(request.POST)
    if form.is_valid():
        try:
            transition = services.course_advance(
                course=course,
                by=request.user,
                override_reason=form.cleaned_data["override_reason"],
                expected_phase=form.cleaned_data["expected_phase"],
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Moved to {transition.get_to_phase_display()}.")
            return redirect("phases:course", course_id=course.pk)
    course.refresh_from_db()
    return _render_course(request, course, advance_form=form)


@login_required
@require_POST
def course_move_back(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    if course.status != CourseStatus.ACTIVE or course.phase == phase_order(course)[0]:
        messages.error(request, "This course cannot move back.")
        return redirect("phases:course", course_id=course.pk)
    form = MoveBackForm(request.POST, course=course)
    if form.is_valid():
        try:
            transition = services.course_move_back(
                course=course,
                by=request.user,
                reason=form.cleaned_data["reason"],
                to_phase=form.cleaned_data["to_phase"],
                expected_phase=form.cleaned_data["expected_phase"],
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Moved back to {transition.get_to_phase_display()}.")
            return redirect("phases:course", course_id=course.pk)
    course.refresh_from_db()
    return _render_course(request, course, move_back_form=form)


@login_required
@require_POST
def course_drop_out(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    form = DropOutForm(request.POST)
    if form.is_valid():
        try:
            services.course_drop_out(
                course=course, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The course is recorded as dropped out.")
            return redirect("phases:course", course_id=course.pk)
    course.refresh_from_db()
    return _render_course(request, course, drop_out_form=form)


def _other_areas(course, area=None) -> list[ProblemArea]:
    areas = ProblemArea.objects.filter(
        clinic_id=course.clinic_id, course=course, removed_at__isnull=True
    )
    return list(areas.exclude(pk=area.pk) if area is not None else areas)


def _warn_deficits(request: HttpRequest, others: list[ProblemArea], saved: ProblemArea) -> None:
    warning = services.deficits_warning([*others, saved])
    if warning:
        messages.warning(request, warning)


@login_required
def problem_area_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    others = _other_areas(course)
    form = ProblemAreaForm(request.POST or None, patient=course.patient, other_areas=others)
    if request.method == "POST" and form.is_valid():
        try:
            area = services.problem_area_create(
                course=course, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Problem area added.")
            _warn_deficits(request, others, area)
            return redirect("phases:course", course_id=course.pk)
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": "Add a problem area",
        },
    )


@login_required
def problem_area_edit(request: HttpRequest, problem_area_id: int) -> HttpResponse:
    area = get_problem_area_for_user(request.user, problem_area_id)
    if area.removed_at is not None:
        raise Http404("This problem area was removed.")
    course = area.course
    others = _other_areas(course, area)
    form = ProblemAreaForm(
        request.POST or None, instance=area, patient=course.patient, other_areas=others
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.problem_area_update(
                problem_area=area,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Problem area saved.")
            _warn_deficits(request, others, saved)
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Problem area opened for editing", area)
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": "Edit problem area",
            "remove_url": "phases:problem_area_remove",
            "remove_id": area.pk,
        },
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def problem_area_remove(request: HttpRequest, problem_area_id: int) -> HttpResponse:
    area = get_problem_area_for_user(request.user, problem_area_id)
    services.problem_area_remove(problem_area=area, by=request.user, request=request)
    messages.success(request, f"Problem area removed: {area.get_kind_display()}.")
    return redirect("phases:course", course_id=area.course_id)


@login_required
def goal_create(request: HttpRequest, problem_area_id: int) -> HttpResponse:
    area = get_problem_area_for_user(request.user, problem_area_id)
    if area.removed_at is not None:
        raise Http404("This problem area was removed.")
    course = area.course
    form = GoalForm(request.POST or None, form_binding=services.GOAL_FORM.bind(area))
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(
                problem_area=area, by=request.user, request=request, **form.cleaned_data
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return redirect("phases:course", course_id=course.pk)
        except SubmissionRefused as exc:
            form.refuse(exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Goal set.")
            return redirect("phases:course", course_id=course.pk)
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": f"Set a goal — {area.get_kind_display()}",
        },
    )


@login_required
def goal_edit(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_goal_for_user(request.user, goal_id)
    if goal.removed_at is not None:
        raise Http404("This goal was removed.")
    course = goal.course
    form = GoalForm(request.POST or None, instance=goal)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_update(
                goal=goal,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Goal saved.")
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Goal opened for editing", goal)
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": "Edit goal",
            "remove_url": "phases:goal_remove",
            "remove_id": goal.pk,
        },
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def goal_remove(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_goal_for_user(request.user, goal_id)
    services.goal_remove(goal=goal, by=request.user, request=request)
    messages.success(request, "Goal removed.")
    return redirect("phases:course", course_id=goal.course_id)


@login_required
def relapse_plan_edit(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    plan = RelapsePreventionPlan.objects.filter(course=course).first()
    form = RelapsePlanForm(
        request.POST or None,
        instance=plan,
        patient=course.patient,
        version=plan.version if plan else 0,
    )
    if request.method == "POST" and form.is_valid():
        fields = form.edited_values()
        supports = fields.pop("supports")
        try:
            services.relapse_plan_save(
                course=course,
                by=request.user,
                expected_version=form.expected_version,
                supports=supports,
                request=request,
                **fields,
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Relapse-prevention plan saved.")
            return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Relapse-prevention plan opened")
    return render(
        request,
        "phases/simple_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "heading": "Relapse-prevention plan",
        },
        status=409 if form.conflict else 200,
    )


@login_required
def dispute_stage_record(request: HttpRequest, problem_area_id: int) -> HttpResponse:
    area = get_problem_area_for_user(request.user, problem_area_id)
    if area.removed_at is not None or area.kind != ProblemAreaKind.ROLE_DISPUTE:
        raise Http404("No such role dispute.")
    course = area.course
    today = timezone.localdate(timezone.now(), course.clinic.tz)
    form = DisputeStageForm(
        request.POST or None, initial={"recorded_on": today, "stage": area.dispute_stage}
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.dispute_stage_record(
                problem_area=area, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Stage recorded: {entry.get_stage_display()}.")
            return redirect(reverse("phases:course", args=[course.pk]) + f"#area-{area.pk}")
    if request.method == "GET":
        _audit_view(request, course, "Role dispute's stage history opened", area)
    history = list(
        DisputeStageEntry.objects.filter(clinic_id=course.clinic_id, problem_area=area)
        .select_related("by")
        .order_by("recorded_on", "at", "id")
    )
    return render(
        request,
        "phases/dispute_stage_form.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "area": area,
            "history": history,
            "history_svg": stage_history_svg(
                history,
                svg_id="stage-history",
                title=f"The dispute with {area.other_party.name}, stage by session",
            )
            if history
            else "",
        },
    )


@login_required
def mid_course_review(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    review = (
        MidCourseReview.objects.filter(clinic_id=course.clinic_id, course=course)
        .select_related("by")
        .first()
    )
    form = None
    if review is None and course.status == CourseStatus.ACTIVE:
        form = MidCourseReviewForm(request.POST or None)
    if request.method == "POST":
        if form is None:
            messages.info(request, "This course's mid-course review is already recorded.")
            return redirect("phases:mid_course_review", course_id=course.pk)
        if form.is_valid():
            try:
                services.mid_course_review_create(
                    course=course, by=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Mid-course review recorded.")
                return redirect("phases:course", course_id=course.pk)
    if request.method == "GET":
        _audit_view(request, course, "Mid-course review opened")
    return render(
        request,
        "phases/mid_course_review.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "review": review,
            "goals": selectors.course_goals(course),
            "halfway_session": services.halfway_session(course),
            "review_state": services.mid_course_review_state(course, reviewed=review is not None),
        },
    )


@login_required
def course_ending(request: HttpRequest, course_id: int) -> HttpResponse:
    """The decided ending: the outcome against baseline, each goal's outcome and what comes
    next; once all that completion needs is there, on to the confirmation that ends it."""
    course = get_course_for_user(request.user, course_id)
    if course.status != CourseStatus.ACTIVE or course.phase != Phase.TERMINATION:
        return redirect("phases:course", course_id=course.pk)
    goals = selectors.course_goals(course)
    outcome = services.course_outcome(course)
    form = EndingForm(
        request.POST or None,
        instance=course,
        goals=goals,
        decision_required=services.decision_needed(course, outcome),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.course_ending_record(
                course=course,
                by=request.user,
                expected_version=form.expected_version,
                goal_outcomes=form.goal_outcomes(),
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            course.refresh_from_db()
            missing = [label for label, met in services.completion_checklist(course) if not met]
            if missing:
                messages.warning(
                    request, "Saved. The course cannot be completed yet: " + "; ".join(missing)
                )
                return redirect("phases:ending", course_id=course.pk)
            messages.success(request, "Outcome and what comes next saved.")
            return redirect("therapy:course_end_confirm", course_id=course.pk, ending="complete")
    if request.method == "GET":
        _audit_view(request, course, "Course ending opened")
    return render(
        request,
        "phases/ending.html",
        {
            "form": form,
            "course": course,
            "patient": course.patient,
            "outcome": outcome,
            "decision_needed": services.decision_needed(course, outcome),
            "completion_checklist": services.completion_checklist(course, goals),
            "exit_checklist": services.exit_checklist(course, goals=goals),
        },
        status=409 if form.conflict else 200,
    )
