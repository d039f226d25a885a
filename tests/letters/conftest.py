from datetime import UTC, date, datetime

import pytest

from phases.models import RelapsePreventionPlan
from tests.factories import CourseFactory, ProblemAreaFactory, RelationshipFactory

ENDED_AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def ended_course(patient):
    """A completed course of 12 sessions with 11 held: PHQ-9 18 -> 6, GAD-7 12 -> 9, a role
    dispute with Tom, a relapse plan and a decided ending."""
    course = CourseFactory(
        patient=patient,
        status="completed",
        phase="termination",
        start_date=date(2026, 8, 20),
        planned_sessions=12,
        sessions_attended=11,
        ended_at=ENDED_AT,
        formulation="Low mood began when the arguments with Tom about money went unresolved.",
        baseline_phq9=18,
        latest_phq9=6,
        latest_phq9_at=ENDED_AT,
        baseline_gad7=12,
        latest_gad7=9,
        ending_decision="medication_review",
        ending_decision_reason="Sleep is still poor",
    )
    tom = RelationshipFactory(patient=patient, name="Tom")
    ProblemAreaFactory(
        course=course, kind="role_dispute", other_party=tom, dispute_stage="renegotiation"
    )
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Staying in bed past ten; not answering Tom's messages.",
        coping_strategies="Walk with Ann.",
        if_symptoms_return="Ring the clinic and book a review.",
    )
    return course
