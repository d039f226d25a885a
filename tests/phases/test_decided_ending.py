"""A decided ending (issue 22, point 4): completing a course needs a PHQ-9 from the last 14
days and an outcome for every goal, whatever reason is written; the ending page shows
response and remission against baseline; a patient without a response gets a recorded
decision about what comes next."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from phases.models import CourseStatus, Goal, Phase, RelapsePreventionPlan, TreatmentCourse
from phases.services import (
    TransitionRefused,
    completion_checklist,
    course_advance,
    course_ending_record,
    course_outcome,
)
from tests.factories import CourseFactory, GoalFactory, PatientFactory, ProblemAreaFactory

pytestmark = pytest.mark.django_db

# A Monday just after midnight in London: the 14 days are counted in time, not calendar days.
NOW = datetime(2026, 3, 16, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ending(therapist):
    """A course in its last phase with its plan written and one goal worked on."""
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        phase=Phase.TERMINATION,
        baseline_phq9=18,
        latest_phq9=8,
        latest_phq9_at=NOW - timedelta(days=3),
    )
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Staying in bed.",
        coping_strategies="A walk each morning.",
        if_symptoms_return="Call the clinic.",
    )
    GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Join the choir again")
    return course


def _scores(course, *, baseline, latest, days_ago):
    TreatmentCourse.objects.filter(pk=course.pk).update(
        baseline_phq9=baseline, latest_phq9=latest, latest_phq9_at=NOW - timedelta(days=days_ago)
    )
    course.refresh_from_db()


def _goal_outcomes(course, status="achieved"):
    return {goal.pk: status for goal in Goal.objects.filter(course=course)}


@pytest.mark.parametrize(
    ("baseline", "latest", "response", "remission"),
    [(20, 10, True, False), (20, 11, False, False), (18, 4, True, True), (6, 5, False, False),
     (8, 9, False, False), (None, 4, None, True), (18, None, None, None)],
)  # fmt: skip
def test_it_judges_response_and_remission_against_baseline(baseline, latest, response, remission):
    course = TreatmentCourse(baseline_phq9=baseline, latest_phq9=latest, latest_phq9_at=NOW)
    outcome = course_outcome(course)
    assert (outcome.response, outcome.remission) == (response, remission)


def test_it_refuses_completion_without_a_phq9_from_the_last_14_days(ending, therapist):
    course_ending_record(
        course=ending, by=therapist, expected_version=None, goal_outcomes=_goal_outcomes(ending)
    )
    _scores(ending, baseline=18, latest=8, days_ago=14.01)
    with pytest.raises(TransitionRefused) as refused:
        course_advance(course=ending, by=therapist, override_reason="She would not fill it in.")
    assert refused.value.unmet == ["A PHQ-9 from the last 14 days"]
    ending.refresh_from_db()
    assert (ending.status, ending.phase) == (CourseStatus.ACTIVE, Phase.TERMINATION)
    _scores(ending, baseline=18, latest=8, days_ago=13.99)
    course_advance(course=ending, by=therapist)
    ending.refresh_from_db()
    assert ending.status == CourseStatus.COMPLETED
    transition = ending.transitions.get(to_phase=Phase.COMPLETED)
    assert transition.checklist["A PHQ-9 from the last 14 days"] is True


def test_it_refuses_completion_while_a_goal_has_no_outcome(ending, therapist):
    with pytest.raises(TransitionRefused) as refused:
        course_advance(course=ending, by=therapist)
    assert refused.value.unmet == [
        "Every goal has an outcome (achieved, partly achieved, not achieved or set aside)"
    ]
    course_ending_record(
        course=ending,
        by=therapist,
        expected_version=None,
        goal_outcomes=_goal_outcomes(ending, "not_met"),
    )
    assert Goal.objects.get(course=ending).get_status_display() == "Not achieved"
    course_advance(course=ending, by=therapist)


def test_a_patient_without_a_response_needs_a_decision(ending, therapist):
    _scores(ending, baseline=18, latest=12, days_ago=2)
    course_ending_record(
        course=ending, by=therapist, expected_version=None, goal_outcomes=_goal_outcomes(ending)
    )
    assert (
        dict(completion_checklist(ending))[
            "What comes next is decided (the PHQ-9 did not fall by half)"
        ]
        is False
    )
    with pytest.raises(TransitionRefused):
        course_advance(course=ending, by=therapist, override_reason="Doing well in herself.")
    with pytest.raises(ValidationError) as refused:
        course_ending_record(
            course=ending,
            by=therapist,
            expected_version=None,
            goal_outcomes={},
            ending_decision="none",
        )
    assert "ending_decision_reason" in refused.value.message_dict
    course_ending_record(
        course=ending,
        by=therapist,
        expected_version=None,
        goal_outcomes={},
        ending_decision="maintenance_ipt",
        ending_decision_reason="Monthly maintenance sessions for a year.",
    )
    course_advance(course=ending, by=therapist)
    ending.refresh_from_db()
    assert ending.get_ending_decision_display() == "Maintenance IPT"


def test_a_patient_who_responded_needs_no_decision(ending, therapist):
    course_ending_record(
        course=ending, by=therapist, expected_version=None, goal_outcomes=_goal_outcomes(ending)
    )
    assert all(met for _, met in completion_checklist(ending))
    course_advance(course=ending, by=therapist)


def test_the_ending_page_shows_the_outcome_and_goes_on_to_the_confirmation(
    ending, therapist_client
):
    url = reverse("phases:ending", args=[ending.pk])
    page = therapist_client.get(url).content.decode()
    assert "18 → 8" in page
    assert "Yes: fell 56%" in page  # response
    assert "Remission (PHQ-9 below 5)" in page
    goal = Goal.objects.get(course=ending)
    response = therapist_client.post(
        url, {"version": ending.version, f"goal_{goal.pk}": "partly", "ending_decision": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "therapy:course_end_confirm", args=[ending.pk, "complete"]
    )
    assert Goal.objects.get(pk=goal.pk).status == "partly"
    confirm = therapist_client.get(response["Location"]).content.decode()
    assert 'name="expected_phase" value="termination"' in confirm
    done = therapist_client.post(
        reverse("phases:advance", args=[ending.pk]), {"expected_phase": "termination"}
    )
    assert done.status_code == 302
    ending.refresh_from_db()
    assert ending.status == CourseStatus.COMPLETED
    page = therapist_client.get(reverse("phases:course", args=[ending.pk])).content.decode()
    assert "The ending" in page and "Yes: fell 56%" in page


def test_the_ending_page_holds_back_a_course_without_a_recent_phq9(ending, therapist_client):
    _scores(ending, baseline=18, latest=15, days_ago=20)
    url = reverse("phases:ending", args=[ending.pk])
    page = therapist_client.get(url).content.decode()
    assert "✗ Not met: A PHQ-9 from the last 14 days" in page
    assert "No: fell 17%" in page
    goal = Goal.objects.get(course=ending)
    refused = therapist_client.post(url, {"version": ending.version, f"goal_{goal.pk}": "achieved"})
    assert refused.status_code == 200
    assert "Record what comes next." in refused.content.decode()
    saved = therapist_client.post(
        url,
        {
            "version": ending.version,
            f"goal_{goal.pk}": "achieved",
            "ending_decision": "medication_review",
            "ending_decision_reason": "GP to review sertraline next week.",
        },
        follow=True,
    )
    assert saved.redirect_chain[-1][0] == url
    assert "The course cannot be completed yet: A PHQ-9 from the last 14 days" in (
        saved.content.decode()
    )
    # The confirmation's own button is refused by the service all the same.
    response = therapist_client.post(
        reverse("phases:advance", args=[ending.pk]),
        {"expected_phase": "termination", "override_reason": "Ending today regardless."},
    )
    assert response.status_code == 200
    assert "The course cannot be completed yet" in response.content.decode()
    ending.refresh_from_db()
    assert ending.status == CourseStatus.ACTIVE


def test_the_course_page_leads_to_the_ending_and_lists_what_it_needs(ending, therapist_client):
    page = therapist_client.get(reverse("phases:course", args=[ending.pk])).content.decode()
    assert reverse("phases:ending", args=[ending.pk]) in page
    assert "✓ Met: A PHQ-9 from the last 14 days" in page
    assert "✗ Not met: Every goal has an outcome" in page


def test_the_ending_page_is_only_for_the_last_phase(ending, therapist_client):
    TreatmentCourse.objects.filter(pk=ending.pk).update(phase=Phase.PROBLEM_SOLVING)
    response = therapist_client.get(reverse("phases:ending", args=[ending.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("phases:course", args=[ending.pk])


@pytest.mark.parametrize(("latest", "needed"), [(3, False), (7, True)])
def test_maintenance_ipt_needs_a_decision_only_out_of_remission(ending, therapist, latest, needed):
    TreatmentCourse.objects.filter(pk=ending.pk).update(course_type="maintenance")
    _scores(ending, baseline=4, latest=latest, days_ago=2)
    labels = dict(completion_checklist(ending))
    assert ("What comes next is decided (the PHQ-9 is not below 5)" in labels) is needed
    assert "What comes next is decided (the PHQ-9 did not fall by half)" not in labels
