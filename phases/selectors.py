"""Reads for the course page, in a fixed number of queries."""

from django.db.models import Prefetch, Q

from .models import (
    PHASE_ORDER,
    Goal,
    Phase,
    PhaseTransition,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from .services import exit_checklist, next_phase


def course_problem_areas(course: TreatmentCourse) -> list[ProblemArea]:
    goals = Goal.objects.filter(clinic_id=course.clinic_id, removed_at__isnull=True)
    return list(
        ProblemArea.objects.filter(
            clinic_id=course.clinic_id, course=course, removed_at__isnull=True
        )
        .select_related("deceased", "other_party")
        .prefetch_related(Prefetch("goals", queryset=goals, to_attr="live_goals"))
    )


def course_page(course: TreatmentCourse) -> dict:
    attended = course.sessions_attended  # kept by the sessions layer as attendance changes
    transitions = list(
        PhaseTransition.objects.filter(clinic_id=course.clinic_id, course=course).select_related(
            "by"
        )
    )
    plan = RelapsePreventionPlan.objects.filter(course=course).prefetch_related("supports").first()
    checklist = exit_checklist(course) if course.status == "active" else []
    current = PHASE_ORDER.index(course.phase)
    phase_steps = [
        {
            "label": Phase(phase).label,
            "current": index == current and course.status == "active",
            "done": index < current or course.phase == Phase.COMPLETED,
        }
        for index, phase in enumerate(PHASE_ORDER)
    ]
    return {
        "phase_steps": phase_steps,
        "attended_sessions": attended,
        "problem_areas": course_problem_areas(course),
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
    }
