"""Reads for the course page, in a fixed number of queries."""

from collections import defaultdict

from django.db.models import Q

from patients.templatetags.course_words import held_words

from .maintenance import maintenance_page
from .models import (
    CourseStatus,
    Goal,
    Phase,
    PhaseTransition,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
    phase_order,
)
from .services import exit_checklist, next_phase


def course_goals(course: TreatmentCourse) -> list[Goal]:
    """The course's live goals, in the order they were set."""
    return list(
        Goal.objects.filter(clinic_id=course.clinic_id, course=course, removed_at__isnull=True)
    )


def course_problem_areas(course: TreatmentCourse, goals: list[Goal]) -> list[ProblemArea]:
    """The course's live problem areas, each with its live goals (``live_goals``) from
    ``goals``."""
    by_area = defaultdict(list)
    for goal in goals:
        by_area[goal.problem_area_id].append(goal)
    areas = list(
        ProblemArea.objects.filter(
            clinic_id=course.clinic_id, course=course, removed_at__isnull=True
        ).select_related("deceased", "other_party")
    )
    for area in areas:
        area.live_goals = by_area.get(area.pk, [])
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
        "problem_areas": course_problem_areas(course, goals),
        "transitions": transitions,
        "relapse_plan": plan,
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


def header_course(patient) -> dict:
    """The patient header's part (``patients.header``): the active course, its phase and how
    far it has come. One query."""
    course = (
        TreatmentCourse.objects.filter(
            clinic_id=patient.clinic_id, patient_id=patient.pk, status=CourseStatus.ACTIVE
        )
        .only(
            "pk",
            "clinic_id",
            "patient_id",
            "phase",
            "status",
            "planned_sessions",
            "sessions_attended",
        )
        .first()
    )
    if course is None:
        return {"course": None}
    return {
        "course": course,
        "held": held_words(held=course.sessions_attended, planned=course.planned_sessions),
    }
