"""The mid-course review (issue 22, point 3): prompted at the contract's halfway session, the
scores against baseline and the goals kept as they stood, the focus kept or changed with a
reason, a plan for the rest; flagged on the therapist's home once overdue."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.home_selectors import caseload_courses, course_flags
from ipt_clinic.audit.models import AuditEvent
from phases.models import MidCourseReview, TreatmentCourse
from phases.services import halfway_session, mid_course_review_create, mid_course_review_state
from tests.factories import CourseFactory, GoalFactory, PatientFactory, ProblemAreaFactory

pytestmark = pytest.mark.django_db

REVIEW = {
    "goals_progress": "Talking to Marcus most weeks; the evenings not yet shared.",
    "focus": "kept",
    "focus_reason": "The dispute is moving: impasse to renegotiation.",
    "plan": "Four sessions on the renegotiation, then the ending.",
}


def _course(therapist, *, held, planned=16, **fields):
    return CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        phase="problem_solving",
        planned_sessions=planned,
        sessions_attended=held,
        **fields,
    )


@pytest.mark.parametrize(("planned", "halfway"), [(16, 8), (12, 6), (13, 7), (8, 4), (20, 10)])
def test_the_halfway_session_is_half_the_contract_rounded_up(planned, halfway):
    assert halfway_session(TreatmentCourse(planned_sessions=planned)) == halfway


@pytest.mark.parametrize(
    ("held", "state"), [(0, "not_due"), (7, "not_due"), (8, "due"), (9, "overdue"), (15, "overdue")]
)
def test_it_is_due_at_the_halfway_session_and_overdue_after_it(held, state):
    course = TreatmentCourse(planned_sessions=16, sessions_attended=held, status="active")
    assert mid_course_review_state(course, reviewed=False) == state
    assert mid_course_review_state(course, reviewed=True) == "done"


def test_once_the_course_is_in_termination_it_is_no_longer_asked_for(therapist, therapist_client):
    course = _course(therapist, held=14, planned=16)
    assert mid_course_review_state(course, reviewed=False) == "overdue"
    TreatmentCourse.objects.filter(pk=course.pk).update(phase="termination")
    course.refresh_from_db()
    assert mid_course_review_state(course, reviewed=False) == "missed"
    assert "Mid-course review overdue" not in " ".join(f for _, f in _flags(therapist, course))
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Not held: the course moved to termination without it" in page


def test_it_keeps_the_scores_and_goals_as_they_stood(therapist):
    course = _course(
        therapist, held=8, baseline_phq9=17, latest_phq9=12, baseline_gad7=12, latest_gad7=9
    )
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course), progress=4)
    review = mid_course_review_create(course=course, by=therapist, session_id=77, **REVIEW)
    TreatmentCourse.objects.filter(pk=course.pk).update(latest_phq9=5)
    goal.progress = 9
    goal.save()
    review.refresh_from_db()
    assert (review.baseline_phq9, review.phq9, review.baseline_gad7, review.gad7) == (17, 12, 12, 9)
    assert (review.sessions_held, review.planned_sessions, review.session_id) == (8, 16, 77)
    assert review.goals == [{"id": goal.pk, "text": goal.text, "status": "open", "progress": 4}]
    assert review.by == therapist
    assert AuditEvent.objects.filter(object_type="phases.midcoursereview").exists()


def test_it_records_one_review_per_course(therapist):
    course = _course(therapist, held=8)
    mid_course_review_create(course=course, by=therapist, **REVIEW)
    with pytest.raises(ValidationError):
        mid_course_review_create(course=course, by=therapist, **{**REVIEW, "focus": "changed"})
    assert MidCourseReview.objects.get(course=course).focus == "kept"


def test_it_needs_a_reason_and_a_plan(therapist):
    course = _course(therapist, held=8)
    with pytest.raises(ValidationError) as refused:
        mid_course_review_create(
            course=course, by=therapist, **{**REVIEW, "focus_reason": " ", "plan": ""}
        )
    assert {"focus_reason", "plan"} <= set(refused.value.message_dict)


def test_the_course_page_prompts_it_and_the_form_records_it(therapist, therapist_client):
    course = _course(therapist, held=8, baseline_phq9=17, latest_phq9=12)
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "The contract's halfway point: the 8th of 16 sessions." in page
    url = reverse("phases:mid_course_review", args=[course.pk])
    assert url in page
    form = therapist_client.get(url).content.decode()
    assert "Due at the contract's halfway point, the 8th of 16 sessions" in form
    response = therapist_client.post(url, {**REVIEW, "focus": "changed"})
    assert response.status_code == 302
    review = MidCourseReview.objects.get(course=course)
    assert (review.focus, review.phq9) == ("changed", 12)
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Held after 8 of 16 sessions" in page and "Focus changed" in page
    # A second submission (a double click, another tab) records nothing more.
    assert therapist_client.post(url, REVIEW).status_code == 302
    assert MidCourseReview.objects.filter(course=course).count() == 1


def test_it_keeps_what_was_typed_when_a_field_is_missing(therapist, therapist_client):
    course = _course(therapist, held=8)
    response = therapist_client.post(
        reverse("phases:mid_course_review", args=[course.pk]), {**REVIEW, "plan": ""}
    )
    assert response.status_code == 200
    assert "The dispute is moving: impasse to renegotiation." in response.content.decode()
    assert not MidCourseReview.objects.exists()


def _flags(therapist, course):
    return course_flags(next(c for c in caseload_courses(therapist) if c.pk == course.pk))


def test_the_home_page_flags_it_once_overdue(therapist, therapist_client):
    overdue = _course(therapist, held=9, planned=16)
    due = _course(therapist, held=8, planned=16)
    reviewed = _course(therapist, held=12, planned=16)
    MidCourseReview.objects.create(
        clinic=reviewed.clinic,
        course=reviewed,
        sessions_held=8,
        planned_sessions=16,
        by=therapist,
        at=reviewed.created_at,
        **REVIEW,
    )
    text = "Mid-course review overdue (session 8)"
    assert text in [flag for _, flag in _flags(therapist, overdue)]
    assert text not in [flag for _, flag in _flags(therapist, due)]
    assert text not in [flag for _, flag in _flags(therapist, reviewed)]
    home = therapist_client.get(reverse("caseload:therapist_home")).content.decode()
    assert home.count(text) == 1
    assert reverse("phases:mid_course_review", args=[overdue.pk]) in home


def test_the_home_page_costs_the_same_with_reviews(therapist, therapist_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _course(therapist, held=9)
    with CaptureQueriesContext(connection) as few:
        therapist_client.get(reverse("caseload:therapist_home"))
    for held in (8, 9, 10):
        course = _course(therapist, held=held)
        mid_course_review_create(course=course, by=therapist, **REVIEW)
    with CaptureQueriesContext(connection) as many:
        therapist_client.get(reverse("caseload:therapist_home"))
    assert len(few) == len(many)


def test_maintenance_ipt_has_no_halfway_review():
    course = TreatmentCourse(
        planned_sessions=12, sessions_attended=9, status="active", course_type="maintenance"
    )
    assert mid_course_review_state(course, reviewed=False) == "not_due"
