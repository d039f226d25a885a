"""Audit: views and changes of a patient's record write append-only events."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_viewing_the_patient_page_writes_a_view_event(patient, therapist, therapist_client):
    therapist_client.get(reverse("patients:detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action="view")
    assert (event.patient_id, event.actor, event.clinic_id) == (
        patient.pk,
        therapist,
        patient.clinic_id,
    )
    assert event.object_type == "patients.patient"
    assert event.ip_address == "10.1.2.3"


def test_a_refused_view_writes_nothing(patient, other_therapist, client):
    login(client, other_therapist)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404
    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()


def test_audit_events_refuse_update_and_delete(patient, therapist_client):
    therapist_client.get(reverse("patients:detail", args=[patient.pk]))
    event = AuditEvent.objects.get()
    event.summary = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.summary == "Patient page viewed"


def test_the_database_refuses_raw_update_and_delete_on_postgresql(patient, therapist_client):
    therapist_client.get(reverse("patients:detail", args=[patient.pk]))
    event = AuditEvent.objects.get()
    if connection.vendor != "postgresql":
        # SQLite has no trigger: the model-level refusal is the guard there.
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        return
    table = AuditEvent._meta.db_table
    for statement in (
        f"UPDATE {table} SET summary = 'tampered' WHERE id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.summary == "Patient page viewed"


def test_the_history_page_shows_who_changed_what(patient, therapist, client, clinic_admin):
    login(client, therapist)
    client.post(
        reverse("patients:edit", args=[patient.pk]),
        {
            "version": patient.version,
            "record_number": patient.record_number,
            "first_name": "Jamie",
            "last_name": "Brook",
            "email": patient.email,
            "preferred_channel": "email",
            "reminder_consent": "on",
        },
    )
    login(client, clinic_admin)
    body = client.get(reverse("patients:history", args=[patient.pk])).content.decode()
    assert "Patient details changed" in body
    assert "Rivers → Brook" in body
    assert "Alice Owen" in body
    assert "Patient page viewed" not in body
    with_views = client.get(reverse("patients:history", args=[patient.pk]) + "?views=1")
    assert "Patient history viewed" in with_views.content.decode()


def test_opening_record_forms_is_audited_as_a_view(patient, therapist_client):
    from tests.factories import CourseFactory, RelationshipFactory

    course = CourseFactory(patient=patient)
    person = RelationshipFactory(patient=patient)
    for url in (
        reverse("patients:edit", args=[patient.pk]),
        reverse("patients:relationship_edit", args=[person.pk]),
        reverse("phases:course", args=[course.pk]),
        reverse("phases:relapse_plan", args=[course.pk]),
    ):
        therapist_client.get(url)
    views = AuditEvent.objects.filter(action="view", patient_id=patient.pk)
    assert views.count() == 4
    assert views.filter(object_type="patients.relationship", object_id=person.pk).exists()


def test_an_event_keeps_every_value_it_was_given(patient, therapist):
    from django.test import RequestFactory
    from django.utils import timezone

    from ipt_clinic.audit.services import audit_record

    before = timezone.now()
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8::1", HTTP_USER_AGENT="Firefox")
    audit_record(
        action="update",
        clinic_id=patient.clinic_id,
        actor=therapist,
        patient_id=patient.pk,
        target=patient,
        summary="x" * 400,
        changes={"first_name": ["Ann", "Anne"], "status": [None, "active"]},
        request=request,
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.actor_kind, event.clinic_id) == (
        "update",
        therapist,
        "staff",
        patient.clinic_id,
    )
    assert (event.patient_id, event.object_type, event.object_id) == (
        patient.pk,
        "patients.patient",
        patient.pk,
    )
    assert event.summary == "x" * 300
    assert event.changes == {"first_name": ["Ann", "Anne"], "status": [None, "active"]}
    assert (event.ip_address, event.user_agent) == ("2001:db8::1", "Firefox")
    assert before <= event.at <= timezone.now()


def test_an_event_without_a_request_or_person_is_the_systems(patient):
    from ipt_clinic.audit.services import audit_record

    audit_record(action="create", clinic_id=None, actor_kind="system", summary="nightly")
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.clinic_id, event.ip_address, event.user_agent) == (
        None,
        None,
        None,
        "",
    )
    assert event.changes == {}
