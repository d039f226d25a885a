import pytest
from django.urls import reverse

from patients.models import Patient
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_it_discharges_then_archives_and_never_deletes(patient, therapist_client):
    therapist_client.post(reverse("patients:discharge", args=[patient.pk]))
    patient.refresh_from_db()
    assert patient.status == "discharged" and patient.discharged_at is not None
    therapist_client.post(reverse("patients:archive", args=[patient.pk]))
    patient.refresh_from_db()
    assert patient.status == "archived" and patient.archived_at is not None
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_it_refuses_to_discharge_during_an_active_course(patient, therapist_client):
    CourseFactory(patient=patient)
    response = therapist_client.post(reverse("patients:discharge", args=[patient.pk]), follow=True)
    patient.refresh_from_db()
    assert patient.status == "active"
    assert "active IPT course" in response.content.decode()


def test_archived_patients_leave_the_default_list(patient, therapist_client):
    therapist_client.post(reverse("patients:archive", args=[patient.pk]))
    listing = therapist_client.get(reverse("patients:list")).content.decode()
    assert patient.record_number not in listing
    archived = therapist_client.get(reverse("patients:list") + "?status=archived").content.decode()
    assert patient.record_number in archived


def test_it_answers_404_to_a_get_on_a_missing_patient(therapist_client):
    assert therapist_client.get(reverse("patients:detail", args=[999999])).status_code == 404


def test_discharge_accepts_only_post(patient, therapist_client):
    assert therapist_client.get(reverse("patients:discharge", args=[patient.pk])).status_code == 405
