"""The phase state machine: every allowed and refused step, with and without override."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from patients.models import PortalLink
from phases.models import (
    CourseStatus,
    Goal,
    Phase,
    PhaseTransition,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from phases.services import (
    TransitionRefused,
    course_advance,
    course_drop_out,
    course_move_back,
    exit_criteria,
)
from sessions.measures import measure_record
from tests.factories import CourseFactory, GoalFactory, ProblemAreaFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def _meet_initial(course, therapist):
    measure_record(
        course=course, instrument="phq9", answers=[2, 2, 1, 1, 1, 1, 1, 0, 0], entered_by=therapist
    )
    _considered(course)


def _considered(course):
    TreatmentCourse.objects.filter(pk=course.pk).update(
        medication_considered=True, referral_considered=True
    )
    course.refresh_from_db()


def _decided_ending(course):
    """What completing needs beyond the plan: a PHQ-9 this week, down by more than half."""
    TreatmentCourse.objects.filter(pk=course.pk).update(
        baseline_phq9=16, latest_phq9=6, latest_phq9_at=timezone.now() - timedelta(days=2)
    )


def _meet_social(course):
    RelationshipFactory(patient=course.patient)
    ProblemAreaFactory(course=course)
    course.refresh_from_db()
    course.formulation = "Low mood since retiring; lost the daily company of colleagues."
    course.contract_agreed_on = date(2026, 1, 19)
    course.save()


def _in_phase(patient, phase):
    return CourseFactory(patient=patient, phase=phase)


def test_it_refuses_leaving_initial_without_a_baseline(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    _considered(course)
    course.contract_agreed_on = date(2026, 1, 5)
    course.save()
    with pytest.raises(TransitionRefused) as refused:
        course_advance(course=course, by=therapist)
    assert refused.value.unmet == ["A baseline PHQ-9 is recorded"]
    course.refresh_from_db()
    assert course.phase == Phase.INITIAL
    assert not PhaseTransition.objects.filter(course=course).exists()


def test_it_leaves_initial_before_the_contract_is_agreed(patient, therapist):
    # The manual's order: the contract follows the inventory and the formulation.
    course = _in_phase(patient, Phase.INITIAL)
    _meet_initial(course, therapist)
    assert course.contract_agreed_on is None
    transition = course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    assert (transition.from_phase, transition.to_phase) == (Phase.INITIAL, Phase.SOCIAL)
    assert transition.kind == "forward"
    assert transition.overridden is False
    assert transition.failed_criteria == []
    assert transition.by == therapist
    assert all(transition.checklist.values())


def test_it_refuses_leaving_initial_before_medication_and_referral_are_considered(
    patient, therapist
):
    course = _in_phase(patient, Phase.INITIAL)
    _meet_initial(course, therapist)
    for medication, referral in [(False, False), (True, False), (False, True)]:
        TreatmentCourse.objects.filter(pk=course.pk).update(
            medication_considered=medication, referral_considered=referral
        )
        course.refresh_from_db()
        with pytest.raises(TransitionRefused) as refused:
            course_advance(course=course, by=therapist)
        assert refused.value.unmet == ["Medication and a referral elsewhere have been considered"]
    _considered(course)
    transition = course_advance(course=course, by=therapist)
    assert transition.checklist == {
        "A baseline PHQ-9 is recorded": True,
        "Medication and a referral elsewhere have been considered": True,
    }


def test_it_overrides_unmet_criteria_with_a_written_reason(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    _considered(course)
    transition = course_advance(
        course=course, by=therapist, override_reason="PHQ-9 done on paper; to be entered."
    )
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    assert transition.overridden is True
    assert transition.reason == "PHQ-9 done on paper; to be entered."
    assert transition.failed_criteria == ["A baseline PHQ-9 is recorded"]


def test_it_does_not_take_blank_space_for_an_override_reason(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist, override_reason="   ")


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("person", "The interpersonal inventory holds at least one person"),
        ("area", "At least one problem area is chosen"),
        ("formulation", "The interpersonal formulation is written"),
        (
            "contract",
            "The treatment contract is agreed: number of sessions, frequency, length and the "
            "date agreed",
        ),
    ],
)
def test_it_refuses_leaving_social_without_each_criterion(patient, therapist, missing, expected):
    course = _in_phase(patient, Phase.SOCIAL)
    if missing != "person":
        RelationshipFactory(patient=patient)
    if missing != "area":
        ProblemAreaFactory(course=course)
    if missing != "formulation":
        course.formulation = "Role transition: retirement."
    if missing != "contract":
        course.contract_agreed_on = date(2026, 1, 19)
    course.save()
    assert exit_criteria(course) == [expected]
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist)


def test_it_leaves_social_without_the_contract_with_a_written_reason(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    _meet_social(course)
    course.contract_agreed_on = None
    course.save()
    transition = course_advance(
        course=course, by=therapist, override_reason="Contract agreed by phone; date to follow."
    )
    assert transition.overridden is True
    assert transition.failed_criteria == [
        "The treatment contract is agreed: number of sessions, frequency, length and the "
        "date agreed"
    ]
    course.refresh_from_db()
    assert course.phase == Phase.PROBLEM_SOLVING


def test_it_ignores_removed_people_and_problem_areas(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    RelationshipFactory(patient=patient, removed_at=timezone.now())
    ProblemAreaFactory(course=course, removed_at=timezone.now())
    course.formulation = "x"
    course.contract_agreed_on = date(2026, 1, 19)
    course.save()
    assert len(exit_criteria(course)) == 2


def test_it_leaves_social_when_criteria_are_met(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    _meet_social(course)
    course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.phase == Phase.PROBLEM_SOLVING


def test_it_refuses_leaving_problem_solving_without_goals(patient, therapist):
    course = _in_phase(patient, Phase.PROBLEM_SOLVING)
    assert exit_criteria(course) == ["At least one goal is set"]
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist)


def test_it_refuses_leaving_problem_solving_with_an_unreviewed_open_goal(patient, therapist):
    course = _in_phase(patient, Phase.PROBLEM_SOLVING)
    area = ProblemAreaFactory(course=course)
    GoalFactory(problem_area=area, last_reviewed_at=timezone.now())
    GoalFactory(problem_area=area)
    assert exit_criteria(course) == ["Every open goal has been reviewed (1 not yet)"]
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist)


def test_it_leaves_problem_solving_when_open_goals_are_reviewed(patient, therapist):
    course = _in_phase(patient, Phase.PROBLEM_SOLVING)
    area = ProblemAreaFactory(course=course)
    GoalFactory(problem_area=area, last_reviewed_at=timezone.now())
    GoalFactory(problem_area=area, status="achieved")  # closed goals need no review
    course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.phase == Phase.TERMINATION


def test_it_refuses_completing_without_a_relapse_plan(patient, therapist):
    course = _in_phase(patient, Phase.TERMINATION)
    assert exit_criteria(course) == ["A relapse-prevention plan is written"]
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_it_completes_the_course_and_dates_the_portal_links(patient, therapist, settings):
    settings.PORTAL_LINK_DAYS_AFTER_COURSE = 30
    course = _in_phase(patient, Phase.TERMINATION)
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Sleeping badly",
        coping_strategies="Walk with Sam",
        if_symptoms_return="Call the clinic",
    )
    live = PortalLink.objects.create(clinic=course.clinic, patient=patient, token_hash="a" * 64)
    revoked = PortalLink.objects.create(
        clinic=course.clinic, patient=patient, token_hash="b" * 64, revoked_at=timezone.now()
    )
    _decided_ending(course)
    course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.phase == Phase.COMPLETED
    assert course.status == CourseStatus.COMPLETED
    assert course.ended_at is not None
    live.refresh_from_db()
    revoked.refresh_from_db()
    assert live.expires_at == course.ended_at + timedelta(days=30)
    assert revoked.expires_at is None


def test_it_refuses_to_advance_a_completed_course(patient, therapist):
    course = CourseFactory(patient=patient, phase=Phase.COMPLETED, status=CourseStatus.COMPLETED)
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist, override_reason="again")


def test_it_moves_back_one_phase_with_a_reason(patient, therapist):
    course = _in_phase(patient, Phase.PROBLEM_SOLVING)
    transition = course_move_back(course=course, by=therapist, reason="New conflict at home.")
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    assert transition.kind == "back"
    assert transition.reason == "New conflict at home."


def test_it_moves_back_to_a_chosen_earlier_phase(patient, therapist):
    course = _in_phase(patient, Phase.TERMINATION)
    course_move_back(course=course, by=therapist, reason="Relapse.", to_phase=Phase.SOCIAL)
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL


def test_it_refuses_moving_back_without_a_reason(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    with pytest.raises(TransitionRefused):
        course_move_back(course=course, by=therapist, reason=" ")
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL


def test_it_refuses_moving_back_from_the_first_phase_or_forward(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    with pytest.raises(TransitionRefused):
        course_move_back(course=course, by=therapist, reason="why not")
    course.phase = Phase.SOCIAL
    course.save()
    with pytest.raises(TransitionRefused):
        course_move_back(course=course, by=therapist, reason="x", to_phase=Phase.TERMINATION)


def test_it_refuses_moving_back_an_ended_course(patient, therapist):
    course = CourseFactory(patient=patient, phase=Phase.COMPLETED, status=CourseStatus.COMPLETED)
    with pytest.raises(TransitionRefused):
        course_move_back(course=course, by=therapist, reason="Relapse after ending.")


def test_it_drops_out_with_a_reason(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    link = PortalLink.objects.create(clinic=course.clinic, patient=patient, token_hash="c" * 64)
    transition = course_drop_out(course=course, by=therapist, reason="Stopped attending.")
    course.refresh_from_db()
    link.refresh_from_db()
    assert course.status == CourseStatus.DROPPED_OUT
    assert course.phase == Phase.SOCIAL
    assert course.end_reason == "Stopped attending."
    assert course.ended_at is not None
    assert transition.kind == "dropped_out"
    assert link.expires_at is not None


def test_it_refuses_a_drop_out_without_a_reason_or_twice(patient, therapist):
    course = _in_phase(patient, Phase.SOCIAL)
    with pytest.raises(TransitionRefused):
        course_drop_out(course=course, by=therapist, reason="")
    course_drop_out(course=course, by=therapist, reason="Moved away.")
    with pytest.raises(TransitionRefused):
        course_drop_out(course=course, by=therapist, reason="Again.")
    with pytest.raises(TransitionRefused):
        course_advance(course=course, by=therapist, override_reason="x")


def test_it_records_every_transition_and_audits_it(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    course_advance(course=course, by=therapist, override_reason="Paper PHQ-9.")
    course_move_back(course=course, by=therapist, reason="Contract not agreed after all.")
    kinds = list(PhaseTransition.objects.filter(course=course).values_list("kind", "to_phase"))
    assert kinds == [("forward", Phase.SOCIAL), ("back", Phase.INITIAL)]
    events = AuditEvent.objects.filter(patient_id=patient.pk, action="transition").order_by("id")
    assert [e.changes["phase"] for e in events] == [
        ["initial", "social"],
        ["social", "initial"],
    ]


def test_it_walks_the_whole_course_in_order(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    _meet_initial(course, therapist)
    course_advance(course=course, by=therapist)
    _meet_social(course)
    course_advance(course=course, by=therapist)
    GoalFactory(problem_area=course.problem_areas.get(), last_reviewed_at=timezone.now())
    course_advance(course=course, by=therapist)
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="w",
        coping_strategies="c",
        if_symptoms_return="i",
    )
    Goal.objects.filter(course=course).update(status="achieved")
    _decided_ending(course)
    course_advance(course=course, by=therapist)
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED
    phases = list(
        PhaseTransition.objects.filter(course=course)
        .order_by("at", "id")
        .values_list("to_phase", flat=True)
    )
    assert phases == ["social", "problem_solving", "termination", "completed"]


def test_it_refuses_a_repeated_advance_from_the_same_phase(patient, therapist):
    course = _in_phase(patient, Phase.INITIAL)
    course_advance(
        course=course, by=therapist, override_reason="On paper.", expected_phase=Phase.INITIAL
    )
    with pytest.raises(TransitionRefused) as refused:
        course_advance(
            course=course, by=therapist, override_reason="On paper.", expected_phase=Phase.INITIAL
        )
    assert "already moved on" in refused.value.messages[0]
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    assert PhaseTransition.objects.filter(course=course, kind="forward").count() == 1


def test_it_refuses_a_repeated_move_back(patient, therapist):
    course = _in_phase(patient, Phase.TERMINATION)
    course_move_back(
        course=course, by=therapist, reason="Relapse.", expected_phase=Phase.TERMINATION
    )
    with pytest.raises(TransitionRefused):
        course_move_back(
            course=course, by=therapist, reason="Relapse.", expected_phase=Phase.TERMINATION
        )
    course.refresh_from_db()
    assert course.phase == Phase.PROBLEM_SOLVING
