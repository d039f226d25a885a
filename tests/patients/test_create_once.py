"""Adding to the inventory and the timeline from a form sent twice (a double click, the Back
button): its one-time key makes one record; the same key with other text is refused, with
the text kept on a fresh form; a key from another patient's form is refused."""

import pytest
from django.urls import reverse

from patients.models import LifeEvent, Relationship
from patients.services import LIFE_EVENT_FORM, RELATIONSHIP_FORM
from tests.factories import PatientFactory
from tests.form_keys import fresh_key, key_on

pytestmark = pytest.mark.django_db


def _life_event(description: str, key: str) -> dict:
    return {
        "occurred_on": "2025-09-14",
        "description": description,
        "mood_effect": "-2",
        "form_key": key,
    }


def _person(name: str, key: str) -> dict:
    return {
        "name": name,
        "kind": "sibling",
        "ring": "1",
        "expectations_met": "unknown",
        "knows_about_depression": "unknown",
        "form_key": key,
    }


def test_it_saves_a_life_event_sent_twice_once(therapist_client, patient):
    url = reverse("patients:life_event_create", args=[patient.pk])
    data = _life_event("Mum moved into a care home", key_on(therapist_client.get(url)))
    first = therapist_client.post(url, data)
    second = therapist_client.post(url, data, follow=True)
    assert first.status_code == 302
    assert second.redirect_chain == [(first["Location"], 302)]
    assert "Already saved" in second.content.decode()
    assert LifeEvent.objects.filter(patient=patient).count() == 1


def test_it_saves_a_person_sent_twice_once(therapist_client, patient):
    url = reverse("patients:relationship_create", args=[patient.pk])
    data = _person("Morgan", key_on(therapist_client.get(url)))
    assert therapist_client.post(url, data).status_code == 302
    second = therapist_client.post(url, data, follow=True)
    assert "Already saved" in second.content.decode()
    assert Relationship.objects.filter(patient=patient).count() == 1


def test_it_refuses_a_used_form_sent_with_other_text_and_keeps_the_text(therapist_client, patient):
    url = reverse("patients:life_event_create", args=[patient.pk])
    key = fresh_key(LIFE_EVENT_FORM, patient)
    therapist_client.post(url, _life_event("Mum moved into a care home", key))

    refused = therapist_client.post(url, _life_event("Started a new job", key))
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "already sent and saved as the life event “Mum moved into a care home”" in body
    assert "Started a new job" in body  # what was typed is still in the form
    assert LifeEvent.objects.filter(patient=patient).count() == 1

    # The form shown again is a fresh form: saving it adds the second event on purpose.
    fresh = key_on(refused)
    assert fresh != key
    assert therapist_client.post(url, _life_event("Started a new job", fresh)).status_code == 302
    assert sorted(
        LifeEvent.objects.filter(patient=patient).values_list("description", flat=True)
    ) == [
        "Mum moved into a care home",
        "Started a new job",
    ]


def test_it_refuses_a_person_sent_again_with_another_name(therapist_client, patient):
    url = reverse("patients:relationship_create", args=[patient.pk])
    key = fresh_key(RELATIONSHIP_FORM, patient)
    therapist_client.post(url, _person("Morgan", key))
    refused = therapist_client.post(url, _person("Robin", key))
    assert "already sent and saved as “Morgan” in the inventory" in refused.content.decode()
    assert 'value="Robin"' in refused.content.decode()
    assert list(Relationship.objects.filter(patient=patient).values_list("name", flat=True)) == [
        "Morgan"
    ]


def test_it_refuses_a_key_from_another_patients_form(therapist_client, patient, therapist):
    other = PatientFactory(primary_therapist=therapist)
    url = reverse("patients:life_event_create", args=[patient.pk])
    refused = therapist_client.post(
        url, _life_event("Mum moved into a care home", fresh_key(LIFE_EVENT_FORM, other))
    )
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "This form belongs to another record" in body
    assert "Mum moved into a care home" in body
    assert not LifeEvent.objects.exists()


def test_it_refuses_a_form_without_its_key_and_keeps_the_text(therapist_client, patient):
    url = reverse("patients:life_event_create", args=[patient.pk])
    data = _life_event("Mum moved into a care home", "")
    refused = therapist_client.post(url, data)
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "nothing was saved" in body and "Mum moved into a care home" in body
    assert not LifeEvent.objects.exists()
    assert therapist_client.post(url, {**data, "form_key": key_on(refused)}).status_code == 302
    assert LifeEvent.objects.filter(patient=patient).count() == 1
