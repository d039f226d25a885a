"""Maintenance IPT as a course of its own (issue 22, point 5): started from a completed course,
carrying its formulation, problem areas, chosen goals and relapse plan; a contract of 6-36
sessions (an acute course keeps 8-20); its own phases, maintenance then the ending; one active
course per patient still."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from ipt_clinic.audit.models import AuditEvent
from phases.maintenance import maintenance_course_start
from phases.models import (
    CourseType,
    DisputeStageEntry,
    Frequency,
    Goal,
    Phase,
    PhaseTransition,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from phases.services import (
    TransitionRefused,
    course_advance,
    course_move_back,
    course_update,
    exit_criteria,
)
from tests.factories import CourseFactory

from .maintenance_cast import completed_course

pytestmark = pytest.mark.django_db

# Wednesday 13 January 2027, 10:00 in London (GMT).
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _start(acute, therapist, **changes):
    values = {"start_date": date(2027, 1, 13), "planned_sessions": 12, **changes}
    return maintenance_course_start(course=acute, by=therapist, **values)


def test_it_carries_the_formulation_areas_chosen_goals_and_plan_into_a_new_course(therapist):
    acute = completed_course(therapist)
    kept = list(Goal.objects.filter(course=acute, status__in=["partly", "not_met"]))
    maintenance = _start(
        acute, therapist, contract_agreed_on=date(2027, 1, 13), goal_ids=[g.pk for g in kept]
    )

    maintenance.refresh_from_db()
    assert maintenance.course_type == CourseType.MAINTENANCE
    assert maintenance.maintenance_of_id == acute.pk
    assert (maintenance.phase, maintenance.status) == (Phase.MAINTENANCE, "active")
    assert (maintenance.planned_sessions, maintenance.frequency) == (12, Frequency.MONTHLY)
    assert maintenance.session_minutes == 45  # the acute course's
    assert maintenance.formulation == acute.formulation
    assert maintenance.formulation_agreed_on == acute.formulation_agreed_on
    assert maintenance.target_diagnosis == "Major depressive episode"

    areas = list(ProblemArea.objects.filter(course=maintenance).order_by("id"))
    assert [(a.kind, a.is_primary) for a in areas] == [
        ("role_dispute", True),
        ("role_transition", False),
    ]
    dispute = areas[0]
    assert dispute.other_party.name == "Chris"
    assert dispute.dispute_stage == "renegotiation"
    assert dispute.non_reciprocal_expectations == "Chris expects the move to be forgotten."
    [entry] = DisputeStageEntry.objects.filter(problem_area=dispute)
    assert (entry.stage, entry.recorded_on) == ("renegotiation", date(2027, 1, 13))

    goals = list(Goal.objects.filter(course=maintenance).order_by("text"))
    assert [(g.text, g.status, g.progress, g.problem_area.kind) for g in goals] == [
        ("Join the choir", "open", 2, "role_transition"),
        ("Share the chores", "open", 6, "role_dispute"),
    ]

    plan = RelapsePreventionPlan.objects.get(course=maintenance)
    old_plan = RelapsePreventionPlan.objects.get(course=acute)
    assert plan.warning_signs == old_plan.warning_signs
    assert plan.coping_strategies == old_plan.coping_strategies
    assert plan.if_symptoms_return == old_plan.if_symptoms_return
    assert plan.maintenance_offered
    assert {p.name for p in plan.supports.all()} == {"Chris", "Sam"}

    # The completed course keeps everything it had.
    assert ProblemArea.objects.filter(course=acute).count() == 2
    assert Goal.objects.filter(course=acute).count() == 3
    [started] = PhaseTransition.objects.filter(course=maintenance)
    assert (started.kind, started.to_phase) == ("started", Phase.MAINTENANCE)
    event = AuditEvent.objects.get(
        object_type="phases.treatmentcourse", object_id=maintenance.pk, action="create"
    )
    assert event.summary == "Maintenance IPT started: 12 sessions, monthly"
    assert event.changes["maintenance_of"] == [None, acute.pk]


@pytest.mark.parametrize(
    ("status", "phase", "message"),
    [
        ("active", Phase.TERMINATION, "Complete this course first"),
        ("dropped_out", Phase.PROBLEM_SOLVING, "ended as dropped out"),
    ],
)
def test_it_starts_only_from_a_completed_course(therapist, status, phase, message):
    acute = completed_course(therapist)
    TreatmentCourse.objects.filter(pk=acute.pk).update(status=status, phase=phase)
    acute.refresh_from_db()
    with pytest.raises(ValidationError, match=message):
        _start(acute, therapist)
    assert not TreatmentCourse.objects.filter(course_type="maintenance").exists()


def test_it_needs_the_completed_course_to_have_a_relapse_plan(therapist):
    acute = completed_course(therapist, plan=False)
    with pytest.raises(ValidationError, match="no relapse-prevention plan"):
        _start(acute, therapist)


def test_it_keeps_one_active_course_per_patient(therapist):
    acute = completed_course(therapist)
    other = CourseFactory(patient=acute.patient, start_date=date(2027, 1, 4))
    with pytest.raises(ValidationError, match="already has an active IPT course"):
        _start(acute, therapist)
    TreatmentCourse.objects.filter(pk=other.pk).update(status="completed")
    _start(acute, therapist)
    with pytest.raises(ValidationError, match="already has an active IPT course"):
        _start(acute, therapist)
    assert TreatmentCourse.objects.filter(patient=acute.patient, status="active").count() == 1


def test_it_does_not_start_before_the_course_it_carries_on_from_ended(therapist):
    acute = completed_course(therapist)
    with pytest.raises(ValidationError) as refused:
        _start(acute, therapist, start_date=date(2027, 1, 1))
    assert "once the course it carries on from has ended" in str(refused.value)


def test_a_maintenance_contract_runs_6_to_36_sessions_and_an_acute_course_8_to_20(therapist):
    maintenance = _start(completed_course(therapist), therapist, planned_sessions=36)
    assert maintenance.planned_sessions == 36
    course_update(course=maintenance, by=therapist, expected_version=None, planned_sessions=6)
    for refused in (5, 37):
        with pytest.raises(ValidationError, match="maintenance contract is contracted for 6 to 36"):
            course_update(
                course=maintenance, by=therapist, expected_version=None, planned_sessions=refused
            )
    acute = CourseFactory(planned_sessions=16)
    for refused in (7, 21, 36):
        acute.planned_sessions = refused
        with pytest.raises(ValidationError, match="course of IPT is contracted for 8 to 20"):
            acute.full_clean(validate_constraints=False)


def test_it_moves_from_maintenance_to_the_ending_and_back_never_into_the_acute_phases(therapist):
    maintenance = _start(completed_course(therapist), therapist)
    with pytest.raises(TransitionRefused, match="first phase"):
        course_move_back(course=maintenance, by=therapist, reason="Relapse")
    # Leaving maintenance asks for the contract's last sessions.
    assert exit_criteria(maintenance) == [
        "The contract's last 2 sessions are reached (0 of 12 held)"
    ]
    with pytest.raises(TransitionRefused):
        course_advance(course=maintenance, by=therapist)
    TreatmentCourse.objects.filter(pk=maintenance.pk).update(sessions_attended=10)
    maintenance.refresh_from_db()
    moved = course_advance(course=maintenance, by=therapist, expected_phase=Phase.MAINTENANCE)
    assert (moved.from_phase, moved.to_phase, moved.overridden) == (
        Phase.MAINTENANCE,
        Phase.TERMINATION,
        False,
    )
    with pytest.raises(TransitionRefused, match="earlier phase"):
        course_move_back(
            course=maintenance, by=therapist, reason="Relapse", to_phase=Phase.PROBLEM_SOLVING
        )
    back = course_move_back(course=maintenance, by=therapist, reason="Warning signs returned")
    assert (back.from_phase, back.to_phase) == (Phase.TERMINATION, Phase.MAINTENANCE)


def test_an_acute_course_cannot_move_into_maintenance(therapist):
    acute = CourseFactory(phase=Phase.TERMINATION)
    with pytest.raises(TransitionRefused, match="earlier phase"):
        course_move_back(course=acute, by=therapist, reason="x", to_phase=Phase.MAINTENANCE)


def test_a_maintenance_session_has_the_middle_phases_note(therapist):
    from sessions.services import note_fields_for, note_start
    from tests.factories import SessionFactory

    maintenance = _start(completed_course(therapist), therapist)
    session = SessionFactory(
        course=maintenance, scheduled_start=NOW - timedelta(hours=1), status="attended"
    )
    note = note_start(session=session, by=therapist)
    session.refresh_from_db()
    assert note.phase == session.phase == Phase.PROBLEM_SOLVING
    assert "focus_problem_area" in note_fields_for(note.phase)
