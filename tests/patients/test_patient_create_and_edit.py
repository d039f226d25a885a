import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from patients.models import Patient
from patients.services import patient_create, patient_update
from tests.conftest import login
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "record_number": "RC-100",
    "first_name": "Jo",
    "last_name": "March",
    "date_of_birth": "1990-05-04",
    "email": "jo@example.org",
    "phone": "",
    "preferred_channel": "email",
}


def test_it_creates_the_therapists_own_patient(therapist, therapist_client):
    response = therapist_client.post(reverse("patients:create"), FORM)
    patient = Patient.objects.get(record_number="RC-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.primary_therapist == therapist
    assert patient.clinic == therapist.clinic
    event = AuditEvent.objects.get(action="create", object_id=patient.pk)
    assert event.changes["record_number"] == [None, "RC-100"]


def test_it_lets_a_therapist_not_choose_someone_elses_patient(
    therapist, other_therapist, therapist_client
):
    therapist_client.post(
        reverse("patients:create"), {**FORM, "primary_therapist": other_therapist.pk}
    )
    assert Patient.objects.get(record_number="RC-100").primary_therapist == therapist


def test_an_admin_picks_the_primary_therapist_among_the_clinics_therapists(
    client, clinic_admin, other_therapist, other_clinic
):
    outsider = UserFactory(username="eve", clinic=other_clinic)
    login(client, clinic_admin)
    page = client.get(reverse("patients:create")).content.decode()
    assert "Bob Quinn" in page
    assert f'value="{other_therapist.pk}"' in page
    assert f'value="{outsider.pk}"' not in page
    refused = client.post(reverse("patients:create"), {**FORM, "primary_therapist": outsider.pk})
    assert refused.status_code == 200
    assert not Patient.objects.exists()
    client.post(reverse("patients:create"), {**FORM, "primary_therapist": other_therapist.pk})
    assert Patient.objects.get(record_number="RC-100").primary_therapist == other_therapist


def test_it_refuses_a_record_number_taken_in_the_clinic_and_keeps_the_input(
    therapist, other_therapist, therapist_client
):
    PatientFactory(primary_therapist=other_therapist, record_number="RC-100")
    response = therapist_client.post(reverse("patients:create"), FORM)
    assert response.status_code == 200
    body = response.content.decode()
    assert "already has this record number" in body
    assert 'value="March"' in body
    assert Patient.objects.filter(record_number="RC-100").count() == 1


def test_the_same_record_number_is_fine_in_another_clinic(therapist, other_clinic):
    elsewhere = UserFactory(username="zed", clinic=other_clinic)
    PatientFactory(primary_therapist=elsewhere, record_number="RC-100")
    patient = patient_create(
        by=therapist,
        clinic=therapist.clinic,
        primary_therapist=therapist,
        record_number="RC-100",
        first_name="A",
        last_name="B",
    )
    assert patient.pk


def test_the_service_refuses_a_duplicate_record_number(therapist):
    PatientFactory(primary_therapist=therapist, record_number="RC-7")
    with pytest.raises(ValidationError) as refused:
        patient_create(
            by=therapist,
            clinic=therapist.clinic,
            primary_therapist=therapist,
            record_number="RC-7",
            first_name="A",
            last_name="B",
        )
    assert "record_number" in refused.value.message_dict


def test_consent_stamps_the_time_and_withdrawal_clears_it(therapist):
    patient = patient_create(
        by=therapist,
        clinic=therapist.clinic,
        primary_therapist=therapist,
        record_number="RC-1",
        first_name="A",
        last_name="B",
    )
    assert patient.reminder_consent_at is None
    patient = patient_update(
        patient=patient, by=therapist, expected_version=1, reminder_consent=True
    )
    stamped = patient.reminder_consent_at
    assert stamped is not None
    patient = patient_update(patient=patient, by=therapist, expected_version=2, first_name="Ann")
    assert patient.reminder_consent_at == stamped
    patient = patient_update(
        patient=patient, by=therapist, expected_version=None, reminder_consent=False
    )
    assert patient.reminder_consent_at is None


def test_it_edits_a_patient_and_audits_the_diff(patient, therapist_client):
    response = therapist_client.post(
        reverse("patients:edit", args=[patient.pk]),
        {
            **FORM,
            "version": patient.version,
            "record_number": patient.record_number,
            "first_name": "Jamie",
            "last_name": "Brook",
            "preferred_channel": "sms",
            "phone": "+44 7700 900123",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Brook"
    event = AuditEvent.objects.get(action="update", object_id=patient.pk)
    assert event.changes["last_name"] == ["Rivers", "Brook"]
    assert event.changes["preferred_channel"] == ["email", "sms"]


def test_sms_reminders_need_a_phone_number(patient, therapist_client):
    response = therapist_client.post(
        reverse("patients:edit", args=[patient.pk]),
        {
            **FORM,
            "version": patient.version,
            "record_number": patient.record_number,
            "preferred_channel": "sms",
        },
    )
    assert response.status_code == 200
    assert "need a phone number" in response.content.decode()
