"""Reads for the FHIR export: a course with every row its resources need, in a fixed number of
queries whatever its length (``courses_for_export``)."""

from django.db.models import Prefetch, QuerySet

from phases.models import Goal, RelapsePreventionPlan, TreatmentCourse
from sessions.models import Measure, SessionStatus, TherapySession


def courses_for_export(courses: QuerySet[TreatmentCourse]) -> QuerySet[TreatmentCourse]:
    """``courses`` (already scoped to who asks) with what ``interop.fhir`` reads prefetched:
    ``held_sessions`` (attended, with the note and its signer), ``all_measures`` (superseded
    ones too, in order), ``live_goals``, ``plans`` (the relapse plan and its supports)."""
    return courses.select_related(
        "patient", "patient__clinic", "therapist", "clinic"
    ).prefetch_related(
        Prefetch(
            "sessions",
            queryset=TherapySession.objects.filter(status=SessionStatus.ATTENDED)
            .select_related("therapist", "note", "note__signed_by")
            .order_by("scheduled_start", "id"),
            to_attr="held_sessions",
        ),
        Prefetch(
            "measures",
            queryset=Measure.objects.select_related("entered_by").order_by("taken_at", "id"),
            to_attr="all_measures",
        ),
        Prefetch(
            "goals",
            queryset=Goal.objects.filter(removed_at__isnull=True).order_by("id"),
            to_attr="live_goals",
        ),
        Prefetch(
            "relapse_plan",
            queryset=RelapsePreventionPlan.objects.prefetch_related("supports"),
            to_attr="plans",
        ),
    )


def course_plan(course) -> RelapsePreventionPlan | None:
    plans = getattr(course, "plans", None)
    if isinstance(plans, list):
        return plans[0] if plans else None
    return plans
