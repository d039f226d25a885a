"""A completed course of IPT, ready for maintenance, as the maintenance tests use it."""

from datetime import timedelta

from django.utils import timezone

from phases.maintenance import maintenance_course_start
from phases.models import CourseStatus, Phase, RelapsePreventionPlan
from tests.factories import (
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
)

WARNING_SIGNS = "- Waking at 4 a.m.\n- Cancelling plans with friends\n• Snapping at Chris"


def completed_course(therapist, *, patient=None, plan: bool = True, **fields):
    """A 16-session course of Jamie's, completed yesterday: the formulation, a role dispute
    with Chris (in renegotiation) with two goals (one achieved, one partly), a role
    transition, and a relapse-prevention plan naming Chris and Sam as supports."""
    patient = patient or PatientFactory(
        primary_therapist=therapist, first_name="Jamie", last_name="Rivers"
    )
    now = timezone.now()
    course = CourseFactory(
        patient=patient,
        planned_sessions=16,
        start_date=timezone.localdate() - timedelta(weeks=18),
        status=CourseStatus.COMPLETED,
        phase=Phase.COMPLETED,
        ended_at=now - timedelta(days=1),
        formulation="Low since the move; the arguments with Chris about the new job.",
        formulation_agreed_on=timezone.localdate() - timedelta(weeks=14),
        target_diagnosis="Major depressive episode",
        baseline_phq9=18,
        latest_phq9=6,
        latest_phq9_at=now - timedelta(days=3),
        session_minutes=45,
        **fields,
    )
    chris = RelationshipFactory(patient=patient, name="Chris", kind="partner")
    sam = RelationshipFactory(patient=patient, name="Sam", kind="friend")
    dispute = ProblemAreaFactory(
        course=course,
        kind="role_dispute",
        old_role="",
        new_role="",
        other_party=chris,
        dispute_stage="renegotiation",
        non_reciprocal_expectations="Chris expects the move to be forgotten.",
    )
    transition = ProblemAreaFactory(course=course, is_primary=False)
    GoalFactory(problem_area=dispute, text="Talk about the move weekly", status="achieved")
    GoalFactory(problem_area=dispute, text="Share the chores", status="partly", progress=6)
    GoalFactory(problem_area=transition, text="Join the choir", status="not_met", progress=2)
    if plan:
        relapse_plan = RelapsePreventionPlan.objects.create(
            clinic=course.clinic,
            course=course,
            warning_signs=WARNING_SIGNS,
            coping_strategies="Walk every morning; call Sam.",
            if_symptoms_return="Call the clinic and book a booster.",
        )
        relapse_plan.supports.set([chris, sam])
    return course


def maintenance_course(therapist, **start):
    """Maintenance of a completed course, started today: 12 monthly sessions by default."""
    acute = completed_course(therapist)
    values = {
        "start_date": timezone.localdate(),
        "planned_sessions": 12,
        "contract_agreed_on": timezone.localdate(),
        **start,
    }
    return maintenance_course_start(course=acute, by=therapist, **values)
