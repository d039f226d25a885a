"""Reads for the course page, in a fixed number of queries."""

from collections import defaultdict

from django.db.models import Prefetch, Q

from patients.header import NOTHING_KNOWN, Known
from patients.templatetags.course_words import held_words

from .dispute_history import stage_history_svg
from .formulation_sharing import shared_formulation
from .maintenance import maintenance_page
from .models import (
    CourseStatus,
    DisputeStageEntry,
    Goal,
    MidCourseReview,
    Phase,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TreatmentCourse,
    phase_order,
)
from .services import (
    completion_checklist,
    course_outcome,
    deficits_warning,
    exit_checklist,
    halfway_session,
    mid_course_review_state,
    next_phase,
)


def course_goals(course: TreatmentCourse) -> list[Goal]:
    """The course's live goals, in the order they were set."""
    return list(
        Goal.objects.filter(clinic_id=course.clinic_id, course=course, removed_at__isnull=True)
    )


def course_problem_areas(course: TreatmentCourse, goals: list[Goal]) -> list[ProblemArea]:
    """The course's live problem areas, each with its live goals (``live_goals``) from
    ``goals`` and, for a role dispute, its stage history (``stage_history``, oldest first,
    and ``stage_svg``, the history drawn): two queries however long the history."""
    by_area = defaultdict(list)
    for goal in goals:
        by_area[goal.problem_area_id].append(goal)
    areas = list(
        ProblemArea.objects.filter(
            clinic_id=course.clinic_id, course=course, removed_at__isnull=True
        )
        .select_related("deceased", "other_party")
        .prefetch_related(
            Prefetch(
                "stage_entries",
                queryset=DisputeStageEntry.objects.filter(
                    clinic_id=course.clinic_id
                ).select_related("by"),
            )
        )
    )
    for area in areas:
        area.live_goals = by_area.get(area.pk, [])
        area.stage_history = list(area.stage_entries.all())
        area.stage_svg = (
            stage_history_svg(
                area.stage_history,
                svg_id=f"stage-history-{area.pk}",
                title=f"The dispute with {area.other_party.name if area.other_party else 'the other party'}, stage by session",
            )
            if area.kind == ProblemAreaKind.ROLE_DISPUTE and area.stage_history
            else ""
        )
    return areas


def course_page(course: TreatmentCourse) -> dict:
    attended = course.sessions_attended  # kept by the sessions layer as attendance changes
    transitions = list(
        PhaseTransition.objects.filter(clinic_id=course.clinic_id, course=course).select_related(
            "by"
        )
    )
    plan = RelapsePreventionPlan.objects.filter(course=course).prefetch_related("supports").first()
    goals = course_goals(course)
    checklist = exit_checklist(course, goals=goals) if course.status == "active" else []
    areas = course_problem_areas(course, goals)
    review = (
        MidCourseReview.objects.filter(clinic_id=course.clinic_id, course=course)
        .select_related("by")
        .first()
    )
    ending = course.phase in (Phase.TERMINATION, Phase.COMPLETED)
    order = phase_order(course)
    current = order.index(course.phase)
    phase_steps = [
        {
            "label": Phase(phase).label,
            "current": index == current and course.status == "active",
            "done": index < current or course.phase == Phase.COMPLETED,
        }
        for index, phase in enumerate(order)
    ]
    return {
        "phase_steps": phase_steps,
        "attended_sessions": attended,
        "problem_areas": areas,
        "deficits_warning": deficits_warning(areas),
        "mid_course_review": review,
        "review_state": mid_course_review_state(course, reviewed=review is not None),
        "halfway_session": halfway_session(course),
        "outcome": course_outcome(course) if ending else None,
        "completion_checklist": completion_checklist(course, goals)
        if ending and course.status == CourseStatus.ACTIVE
        else [],
        "transitions": transitions,
        "relapse_plan": plan,
        "shared_formulation": shared_formulation(course),
        "checklist": checklist,
        "unmet": [label for label, met in checklist if not met],
        "next_phase": next_phase(course.phase) if course.status == "active" else None,
        "other_courses": list(
            TreatmentCourse.objects.filter(clinic_id=course.clinic_id, patient_id=course.patient_id)
            .filter(~Q(pk=course.pk))
            .order_by("-start_date")
        ),
        **maintenance_page(course, plan=plan),
    }


# What the header reads of a course: a course the page read without one of these is read again.
_HEADER_COURSE_FIELDS = (
    "clinic_id",
    "patient_id",
    "phase",
    "status",
    "planned_sessions",
    "sessions_attended",
)


def _known_active_course(patient, known: Known):
    """The patient's active course among the courses the page read (at most one is active:
    ``one_active_course_per_patient``); None when the page read them all and none is;
    ``...`` when the page's courses do not say."""
    for course in known.courses:
        if (
            isinstance(course, TreatmentCourse)
            and course.patient_id == patient.pk
            and not course.get_deferred_fields().intersection(_HEADER_COURSE_FIELDS)
            and course.status == CourseStatus.ACTIVE
        ):
            return course
    return None if known.all_courses else ...


def header_course(patient, *, facts=None, known: Known = NOTHING_KNOWN) -> dict:
    """The patient header's part (``patients.header``): the active course, its phase and how
    far it has come. One query, none when the page read the patient's active course (or all
    their courses)."""
    course = _known_active_course(patient, known)
    if course is ...:
        course = (
            TreatmentCourse.objects.filter(
                clinic_id=patient.clinic_id, patient_id=patient.pk, status=CourseStatus.ACTIVE
            )
            .only("pk", *_HEADER_COURSE_FIELDS)
            .first()
        )
    if course is None:
        return {"course": None}
    return {
        "course": course,
        "held": held_words(held=course.sessions_attended, planned=course.planned_sessions),
    }
