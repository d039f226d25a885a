"""The patient's language on their record (issue 23, point 6): English unless chosen, chosen
on the patient form, kept through a stale edit like every other field, shown on their page."""

import pytest
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from patients.models import Language, Patient
from tests.stale_edits import assert_refused, open_form

pytestmark = pytest.mark.django_db

FORM = {
    "record_number": "RC-200",
    "first_name": "Lucía",
    "last_name": "Martín",
    "date_of_birth": "1979-02-11",
    "email": "lucia@example.org",
    "phone": "",
    "preferred_channel": "email",
}


def _details(patient, **changes) -> dict:
    return {
        "record_number": patient.record_number,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": "",
        "preferred_channel": "email",
        **changes,
    }


def test_a_new_patient_is_english_unless_another_language_is_chosen(therapist_client):
    form = therapist_client.get(reverse("patients:create")).content.decode()
    assert 'name="language"' in form and "Spanish (español)" in form
    therapist_client.post(reverse("patients:create"), FORM)
    assert Patient.objects.get(record_number="RC-200").language == Language.ENGLISH

    therapist_client.post(
        reverse("patients:create"), {**FORM, "record_number": "RC-201", "language": "es"}
    )
    assert Patient.objects.get(record_number="RC-201").language == Language.SPANISH


def test_it_changes_the_language_on_the_patient_form_and_shows_it(patient, therapist_client):
    url = reverse("patients:edit", args=[patient.pk])
    version = open_form(therapist_client, url)
    saved = therapist_client.post(url, _details(patient, language="es", version=version))
    assert saved.status_code == 302
    patient.refresh_from_db()
    assert (patient.language, patient.version) == (Language.SPANISH, 2)
    event = AuditEvent.objects.get(action="update", object_id=patient.pk)
    assert event.changes["language"] == ["en-gb", "es"]
    page = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert '<dt class="col-5">Language</dt><dd class="col-7">Spanish (español)</dd>' in page


def test_it_refuses_an_unknown_language(patient, therapist_client):
    url = reverse("patients:edit", args=[patient.pk])
    refused = therapist_client.post(url, _details(patient, language="xx", version=1))
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    patient.refresh_from_db()
    assert patient.language == Language.ENGLISH


def test_a_form_sent_without_the_language_keeps_the_stored_one(patient, therapist_client):
    patient.language = Language.SPANISH
    patient.save()
    url = reverse("patients:edit", args=[patient.pk])
    therapist_client.post(url, _details(patient, phone="+44 7700 900444", version=1))
    patient.refresh_from_db()
    assert (patient.language, patient.phone) == (Language.SPANISH, "+44 7700 900444")


def test_it_refuses_a_stale_language_change_and_keeps_the_first(
    patient, therapist_client, admin_client_
):
    url = reverse("patients:edit", args=[patient.pk])
    admins_version = open_form(admin_client_, url)
    therapists_version = open_form(therapist_client, url)
    assert (
        admin_client_.post(
            url, _details(patient, language="es", version=admins_version)
        ).status_code
        == 302
    )
    stale = therapist_client.post(
        url, _details(patient, language="en-gb", version=therapists_version)
    )
    assert_refused(
        stale,
        theirs=["Spanish (español)"],
        yours=["English"],
        version=2,
        in_form=['<option value="en-gb" selected>'],
    )
    patient.refresh_from_db()
    assert (patient.language, patient.version) == (Language.SPANISH, 2)
