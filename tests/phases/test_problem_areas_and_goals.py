"""Problem areas with their kind's fields, goals per problem area, the formulation."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import Goal, ProblemArea
from phases.services import (
    GOAL_FORM,
    goal_create,
    goal_update,
    problem_area_create,
    problem_area_remove,
    problem_area_update,
)
from tests.factories import PatientFactory, RelationshipFactory
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db


def test_it_keeps_only_the_fields_of_the_kind(course, therapist):
    mother = RelationshipFactory(
        patient=course.patient, kind="parent", name="Mum", deceased=True, died_on=date(2025, 11, 1)
    )
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="grief",
        deceased=mother,
        mourning_status="Avoids the grave; cannot speak of her",
        old_role="stray value from a switched kind",
    )
    assert area.deceased == mother
    assert area.old_role == ""
    assert area.clinic_id == course.clinic_id


def test_it_requires_the_other_party_and_stage_of_a_role_dispute(course, therapist):
    with pytest.raises(ValidationError) as refused:
        problem_area_create(course=course, by=therapist, kind="role_dispute")
    assert set(refused.value.message_dict) == {"other_party", "dispute_stage"}
    partner = RelationshipFactory(patient=course.patient, kind="partner")
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="role_dispute",
        other_party=partner,
        dispute_stage="impasse",
    )
    assert area.get_dispute_stage_display() == "Impasse"


def test_it_requires_both_roles_of_a_role_transition(course, therapist):
    with pytest.raises(ValidationError):
        problem_area_create(course=course, by=therapist, kind="role_transition", old_role="Nurse")
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="role_transition",
        old_role="Nurse",
        new_role="Retired",
        transition_date=date(2025, 6, 30),
    )
    assert area.new_role == "Retired"


def test_it_takes_interpersonal_deficits_with_notes_only(course, therapist):
    area = problem_area_create(
        course=course, by=therapist, kind="interpersonal_deficits", notes="Few close ties."
    )
    assert area.notes == "Few close ties."


def test_it_refuses_another_patients_person(course, therapist):
    stranger = RelationshipFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError):
        problem_area_create(
            course=course,
            by=therapist,
            kind="role_dispute",
            other_party=stranger,
            dispute_stage="impasse",
        )


def test_it_audits_problem_area_changes_with_the_diff(course, therapist):
    area = problem_area_create(course=course, by=therapist, kind="interpersonal_deficits")
    problem_area_update(
        problem_area=area, by=therapist, expected_version=1, notes="Shy since school"
    )
    event = AuditEvent.objects.filter(action="update", object_id=area.pk).get()
    assert event.changes == {"notes": ["", "Shy since school"]}
    problem_area_remove(problem_area=area, by=therapist)
    area.refresh_from_db()
    assert area.removed_at is not None
    assert ProblemArea.objects.filter(pk=area.pk).exists()


def test_it_sets_and_updates_goals_per_problem_area(course, therapist):
    area = problem_area_create(course=course, by=therapist, kind="interpersonal_deficits")
    goal = goal_create(problem_area=area, by=therapist, text="Phone one friend a week")
    assert (goal.course_id, goal.clinic_id, goal.status, goal.progress) == (
        course.pk,
        course.clinic_id,
        "open",
        0,
    )
    goal_update(goal=goal, by=therapist, expected_version=1, status="partly", progress=6)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("partly", 6)
    with pytest.raises(ValidationError):
        goal_update(goal=goal, by=therapist, expected_version=None, progress=11)
    assert AuditEvent.objects.filter(object_type="phases.goal", object_id=goal.pk).count() == 2


def test_it_adds_a_problem_area_and_goal_through_the_pages(course, therapist_client):
    partner = RelationshipFactory(patient=course.patient, kind="partner", name="Chris")
    response = therapist_client.post(
        reverse("phases:problem_area_create", args=[course.pk]),
        {
            "kind": "role_dispute",
            "is_primary": "on",
            "other_party": partner.pk,
            "dispute_stage": "renegotiation",
        },
    )
    assert response.status_code == 302
    area = ProblemArea.objects.get(course=course)
    response = therapist_client.post(
        reverse("phases:goal_create", args=[area.pk]),
        {
            "text": "Say what I need without shouting",
            "status": "open",
            "progress": "1",
            "form_key": fresh_key(GOAL_FORM, area),
        },
    )
    assert response.status_code == 302
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Say what I need without shouting" in page
    assert "With Chris" in page
    assert Goal.objects.filter(problem_area=area).count() == 1


def test_the_problem_area_form_offers_only_this_patients_people(
    course, therapist, therapist_client
):
    mine = RelationshipFactory(patient=course.patient, name="Mine")
    RelationshipFactory(patient=PatientFactory(primary_therapist=therapist), name="NotMine")
    body = therapist_client.get(
        reverse("phases:problem_area_create", args=[course.pk])
    ).content.decode()
    assert f'value="{mine.pk}"' in body
    assert "NotMine" not in body


def test_it_saves_the_formulation(course, therapist_client):
    response = therapist_client.post(
        reverse("phases:formulation", args=[course.pk]),
        {
            "version": course.version,
            "formulation": "Her low mood began when her role changed.",
            "formulation_agreed_on": "2026-02-10",
        },
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.formulation_agreed_on == date(2026, 2, 10)
    event = AuditEvent.objects.get(action="update", object_id=course.pk)
    assert "formulation" in event.changes


def test_an_area_naming_a_since_removed_person_stays_editable(course, therapist, therapist_client):
    from patients.services import relationship_remove

    partner = RelationshipFactory(patient=course.patient, kind="partner", name="Chris")
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="role_dispute",
        other_party=partner,
        dispute_stage="impasse",
    )
    relationship_remove(relationship=partner, by=therapist)
    response = therapist_client.post(
        reverse("phases:problem_area_edit", args=[area.pk]),
        {
            "version": area.version,
            "kind": "role_dispute",
            "other_party": partner.pk,
            "dispute_stage": "dissolution",
        },
    )
    assert response.status_code == 302
    area.refresh_from_db()
    assert area.dispute_stage == "dissolution"
