"""The course page: the timeline, the exit criteria and the phase buttons."""

import pytest
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import Phase, PhaseTransition
from phases.services import course_advance, course_move_back
from tests.factories import CourseFactory, GoalFactory, ProblemAreaFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_course_and_audits_the_view(course, therapist, therapist_client):
    response = therapist_client.get(reverse("phases:course", args=[course.pk]))
    assert response.status_code == 200
    assert "Initial assessment" in response.content.decode()
    event = AuditEvent.objects.get(action="view", object_id=course.pk)
    assert event.patient_id == course.patient_id
    assert event.actor == therapist


def test_it_lists_unmet_criteria_and_refuses_without_a_reason(course, therapist_client):
    url = reverse("phases:advance", args=[course.pk])
    response = therapist_client.post(url, {"override_reason": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "A baseline PHQ-9 is recorded" in body
    course.refresh_from_db()
    assert course.phase == Phase.INITIAL


def test_it_advances_with_an_override_from_the_page(course, therapist_client):
    url = reverse("phases:advance", args=[course.pk])
    response = therapist_client.post(url, {"override_reason": "Baseline taken on paper."})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Baseline taken on paper." in page
    assert "override" in page


def test_it_keeps_the_typed_reason_when_moving_back_fails(course, therapist_client):
    course.phase = Phase.SOCIAL
    course.save()
    response = therapist_client.post(
        reverse("phases:move_back", args=[course.pk]),
        {"to_phase": "problem_solving", "reason": "Her sister fell ill"},
    )
    assert response.status_code == 200
    assert "Her sister fell ill" in response.content.decode()
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL


def test_it_drops_out_from_the_page(course, therapist_client):
    response = therapist_client.post(
        reverse("phases:drop_out", args=[course.pk]), {"reason": "No longer reachable."}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == "dropped_out"


def test_it_shows_every_transition_on_the_timeline(patient, therapist, therapist_client):
    course = CourseFactory(patient=patient, phase=Phase.SOCIAL)
    RelationshipFactory(patient=patient)
    ProblemAreaFactory(course=course)
    course.formulation = "Grief"
    course.contract_agreed_on = course.start_date
    course.save()
    course_advance(course=course, by=therapist)
    course_move_back(course=course, by=therapist, reason="Unresolved grief resurfaced.")
    body = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Social assessment → Problem-solving strategies" in body
    assert "Moved back from Problem-solving strategies to Social assessment" in body
    assert "Unresolved grief resurfaced." in body
    assert PhaseTransition.objects.filter(course=course).count() == 2


def test_the_course_page_costs_the_same_with_more_goals(
    course, therapist_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    area = ProblemAreaFactory(course=course)
    GoalFactory(problem_area=area)
    url = reverse("phases:course", args=[course.pk])
    with CaptureQueriesContext(connection) as few:
        therapist_client.get(url)
    for _ in range(3):
        GoalFactory(
            problem_area=ProblemAreaFactory(
                course=course, kind="grief", deceased=RelationshipFactory(patient=course.patient)
            )
        )
    with CaptureQueriesContext(connection) as many:
        therapist_client.get(url)
    assert len(few) == len(many)


def test_a_double_click_on_advance_moves_one_phase(course, therapist_client):
    url = reverse("phases:advance", args=[course.pk])
    data = {"override_reason": "Paper PHQ-9.", "expected_phase": "initial"}
    assert therapist_client.post(url, data).status_code == 302
    second = therapist_client.post(url, data)
    assert second.status_code == 200
    body = second.content.decode()
    assert "already moved on" in body
    assert 'name="expected_phase" value="social"' in body
    course.refresh_from_db()
    assert course.phase == Phase.SOCIAL
    assert PhaseTransition.objects.filter(course=course, kind="forward").count() == 1
