"""Two people (or two tabs) editing the same patient record: the second save is refused with
both versions shown and the typed text kept, never written over the first."""

import pytest
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.editing import MISSING_VERSION
from patients.models import Patient
from patients.services import patient_discharge
from tests.factories import LifeEventFactory, RelationshipFactory
from tests.stale_edits import assert_refused, open_form

pytestmark = pytest.mark.django_db


def _details(patient, **changes) -> dict:
    return {
        "record_number": patient.record_number,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": "1985-04-01",
        "email": patient.email,
        "phone": "",
        "preferred_channel": "email",
        **changes,
    }


def test_it_refuses_a_stale_patient_save_and_keeps_the_first(
    patient, therapist_client, admin_client_
):
    url = reverse("patients:edit", args=[patient.pk])
    admins_version = open_form(admin_client_, url)
    therapists_version = open_form(therapist_client, url)
    assert admins_version == therapists_version == 1
    corrected = admin_client_.post(
        url, _details(patient, phone="+44 7700 900111", version=admins_version)
    )
    assert corrected.status_code == 302
    stale = therapist_client.post(
        url, _details(patient, phone="+44 7700 900222", version=therapists_version)
    )
    assert_refused(stale, theirs=["+44 7700 900111"], yours=["+44 7700 900222"], version=2)
    assert "Patient details saved" not in stale.content.decode()
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("+44 7700 900111", 2)
    assert AuditEvent.objects.filter(action="update", object_id=patient.pk).count() == 1


def test_it_saves_a_refused_patient_form_again_on_top_of_the_stored_version(
    patient, therapist_client, admin_client_
):
    url = reverse("patients:edit", args=[patient.pk])
    admin_client_.post(url, _details(patient, phone="+44 7700 900111", version=1))
    refused = therapist_client.post(url, _details(patient, phone="+44 7700 900222", version=1))
    assert refused.status_code == 409
    again = therapist_client.post(url, _details(patient, phone="+44 7700 900222", version=2))
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("+44 7700 900222", 3)


def test_it_refuses_a_patient_form_without_its_version(patient, therapist_client):
    response = therapist_client.post(
        reverse("patients:edit", args=[patient.pk]), _details(patient, phone="+44 7700 900333")
    )
    assert response.status_code == 200
    assert MISSING_VERSION in response.content.decode()
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("", 1)


def test_it_refuses_a_patient_form_opened_before_a_discharge(patient, therapist, therapist_client):
    url = reverse("patients:edit", args=[patient.pk])
    version = open_form(therapist_client, url)
    patient_discharge(patient=patient, by=therapist)
    response = therapist_client.post(url, _details(patient, last_name="Brook", version=version))
    assert_refused(response, theirs=["Rivers"], yours=["Brook"], version=2)
    patient.refresh_from_db()
    assert (patient.last_name, patient.status) == ("Rivers", "discharged")


def test_it_refuses_a_stale_save_of_a_person_in_the_inventory(
    patient, therapist_client, admin_client_
):
    person = RelationshipFactory(patient=patient, name="Chris", kind="partner", ring=1)
    url = reverse("patients:relationship_edit", args=[person.pk])
    versions = {open_form(admin_client_, url), open_form(therapist_client, url)}
    assert versions == {1}

    def post(client, satisfying: str, ring: str):
        return client.post(
            url,
            {
                "version": 1,
                "name": "Chris",
                "kind": "partner",
                "ring": ring,
                "satisfying": satisfying,
                "expectations_met": "unknown",
                "knows_about_depression": "unknown",
            },
        )

    assert post(admin_client_, "Walks on Sunday", "2").status_code == 302
    stale = post(therapist_client, "Cooking together", "3")
    assert_refused(
        stale,
        theirs=["Walks on Sunday", "2 — close"],
        yours=["Cooking together", "3 — less close"],
        version=2,
        in_form=["Cooking together"],
    )
    person.refresh_from_db()
    assert (person.satisfying, person.ring, person.version) == ("Walks on Sunday", 2, 2)


def test_it_refuses_a_stale_save_of_a_life_event(patient, therapist_client, admin_client_):
    event = LifeEventFactory(patient=patient, description="Lost job")
    url = reverse("patients:life_event_edit", args=[event.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1

    def post(client, description: str):
        return client.post(
            url,
            {
                "version": 1,
                "occurred_on": "2025-01-02",
                "description": description,
                "mood_effect": "-1",
            },
        )

    assert post(admin_client_, "Made redundant").status_code == 302
    stale = post(therapist_client, "Laid off with the whole team")
    assert_refused(
        stale, theirs=["Made redundant"], yours=["Laid off with the whole team"], version=2
    )
    event.refresh_from_db()
    assert (event.description, event.version) == ("Made redundant", 2)
    assert Patient.objects.get(pk=patient.pk).version == 1  # the patient's own row untouched
