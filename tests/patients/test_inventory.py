"""The interpersonal inventory: every add, edit and removal keeps a revision, so the circle
at a course's start can be compared with the circle at its end."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from patients.models import LifeEvent, Relationship, RelationshipRevision
from patients.selectors import circle_at
from patients.services import (
    LIFE_EVENT_FORM,
    RELATIONSHIP_FORM,
    life_event_create,
    relationship_create,
    relationship_remove,
    relationship_update,
)
from tests.factories import PatientFactory, RelationshipFactory
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db

EVERY_FIELD = {
    "name": "Chris",
    "kind": "partner",
    "ring": "1",
    "is_support": "on",
    "contact_frequency": "Every day; we cook together",
    "shared_activities": "Cooking, walking the dog",
    "satisfying": "Feels understood",
    "unsatisfying": "Arguments about money",
    "patient_expectations": "Help with the children",
    "their_expectations": "More time together",
    "expectations_met": "partly",
    "disputes": "Silent for days, then it blows over",
    "knows_about_depression": "true",
    "wants_to_change": "Talk before it builds up",
    "changed_near_onset": "on",
    "change_when": "Last spring",
}


def test_it_adds_a_person_with_every_field(patient, therapist_client):
    response = therapist_client.post(
        reverse("patients:relationship_create", args=[patient.pk]),
        {**EVERY_FIELD, "form_key": fresh_key(RELATIONSHIP_FORM, patient)},
    )
    assert response.status_code == 302
    person = Relationship.objects.get(patient=patient)
    assert person.clinic_id == patient.clinic_id
    assert person.ring == 1 and person.is_support and person.changed_near_onset
    assert person.knows_about_depression is True
    assert person.disputes == "Silent for days, then it blows over"
    assert person.change_when == "Last spring"
    revision = RelationshipRevision.objects.get(relationship=person)
    assert (revision.ring, revision.kind, revision.removed) == (1, "partner", False)


def test_each_edit_and_removal_writes_a_revision_and_an_audit_event(patient, therapist):
    person = relationship_create(
        patient=patient, by=therapist, name="Chris", kind="partner", ring=1
    )
    relationship_update(relationship=person, by=therapist, expected_version=1, ring=3)
    relationship_remove(relationship=person, by=therapist)
    revisions = list(RelationshipRevision.objects.filter(relationship=person).order_by("id"))
    assert [(r.ring, r.removed) for r in revisions] == [(1, False), (3, False), (3, True)]
    person.refresh_from_db()
    assert person.removed_at is not None  # soft: the row stays
    update = AuditEvent.objects.filter(object_id=person.pk, action="update").order_by("id").first()
    assert update.changes == {"ring": [1, 3]}


def test_the_circle_at_a_moment_follows_the_revisions(patient, therapist):
    chris = relationship_create(patient=patient, by=therapist, name="Chris", kind="partner", ring=1)
    alex = relationship_create(patient=patient, by=therapist, name="Alex", kind="friend", ring=2)
    start = timezone.now()
    RelationshipRevision.objects.filter(patient=patient).update(
        recorded_at=start - timedelta(days=30)
    )
    relationship_update(relationship=chris, by=therapist, expected_version=None, ring=3)
    relationship_remove(relationship=alex, by=therapist)
    relationship_create(patient=patient, by=therapist, name="Sam", kind="sibling", ring=1)
    then = {(p.name, p.ring) for p in circle_at(patient, start)}
    now = {(p.name, p.ring) for p in circle_at(patient, timezone.now())}
    assert then == {("Chris", 1), ("Alex", 2)}
    assert now == {("Chris", 3), ("Sam", 1)}


def test_the_circle_page_compares_course_start_and_now(patient, therapist, therapist_client):
    from tests.factories import CourseFactory

    relationship_create(patient=patient, by=therapist, name="Early Friend", kind="friend", ring=2)
    RelationshipRevision.objects.filter(patient=patient).update(
        recorded_at=timezone.now() - timedelta(days=30)
    )
    CourseFactory(patient=patient)
    relationship_create(
        patient=patient, by=therapist, name="New Colleague", kind="colleague", ring=3
    )
    body = therapist_client.get(reverse("patients:circle", args=[patient.pk])).content.decode()
    start, now = body.split('<section class="col-md-6 col-xl-4">')[1:]
    assert "At the start of the course" in start and "Now" in now
    assert "Early Friend" in start and "New Colleague" not in start
    assert "Early Friend" in now and "New Colleague" in now


def test_a_removed_person_leaves_the_patient_page(patient, therapist, therapist_client):
    person = RelationshipFactory(patient=patient, name="Gone Person")
    therapist_client.post(reverse("patients:relationship_remove", args=[person.pk]), follow=True)
    body = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Gone Person" not in body
    assert (
        therapist_client.get(reverse("patients:relationship_edit", args=[person.pk])).status_code
        == 404
    )


def test_the_timeline_holds_date_event_person_and_mood(patient, therapist, therapist_client):
    mum = RelationshipFactory(patient=patient, name="Mum", kind="parent")
    response = therapist_client.post(
        reverse("patients:life_event_create", args=[patient.pk]),
        {
            "occurred_on": "2025-09-14",
            "description": "Mum moved into a care home",
            "relationship": mum.pk,
            "mood_effect": "-2",
            "form_key": fresh_key(LIFE_EVENT_FORM, patient),
        },
    )
    assert response.status_code == 302
    event = LifeEvent.objects.get(patient=patient)
    assert (event.relationship, event.mood_effect) == (mum, -2)
    body = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Mum moved into a care home" in body
    assert "Mood much worse" in body
    assert "14 Sep 2025" in body


def test_a_life_event_refuses_another_patients_person(patient, therapist):
    from django.core.exceptions import ValidationError

    stranger = RelationshipFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError):
        life_event_create(
            patient=patient,
            by=therapist,
            occurred_on=timezone.localdate(),
            description="x",
            relationship=stranger,
        )


def test_a_life_event_is_edited_and_removed_softly(patient, therapist_client):
    from tests.factories import LifeEventFactory

    event = LifeEventFactory(patient=patient, description="Lost job")
    therapist_client.post(
        reverse("patients:life_event_edit", args=[event.pk]),
        {
            "version": event.version,
            "occurred_on": "2025-01-02",
            "description": "Made redundant",
            "mood_effect": "-1",
        },
    )
    event.refresh_from_db()
    assert event.description == "Made redundant"
    therapist_client.post(reverse("patients:life_event_remove", args=[event.pk]))
    event.refresh_from_db()
    assert event.removed_at is not None


def test_the_patient_page_counts_sessions_once_whatever_the_problem_areas(
    patient, therapist_client
):
    from tests.factories import CourseFactory, ProblemAreaFactory, SessionFactory

    course = CourseFactory(patient=patient, planned_sessions=12)
    ProblemAreaFactory(course=course)
    ProblemAreaFactory(course=course, kind="interpersonal_deficits")
    for days in (21, 14, 7):
        SessionFactory(
            course=course, status="attended", scheduled_start=timezone.now() - timedelta(days=days)
        )
    SessionFactory(course=course, status="no_show", scheduled_start=timezone.now())
    body = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "session 3 of 12" in body
    assert "2 problem areas" in body
