"""The course page's "Download FHIR (JSON)": for the course's therapist and the clinic admin,
audited, an attachment nobody caches; a 404 to anyone else, nothing for a portal session."""

import json

from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from ipt_clinic.audit.models import AuditEvent
from patients.portal_links import portal_link_create
from tests.conftest import login
from tests.portal.links import open_portal


def _url(course) -> str:
    return reverse("interop:course_fhir", args=[course.pk])


def _exports(course):
    return AuditEvent.objects.filter(
        action="export", object_type="phases.treatmentcourse", object_id=course.pk
    )


def test_it_downloads_the_course_as_a_bundle_for_its_therapist(therapist_client, therapist, course):
    response = therapist_client.get(_url(course))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="course-{course.pk}-fhir-'
    )
    assert "no-store" in response["Cache-Control"]
    bundle = Bundle.model_validate(json.loads(response.content))
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].value == course.patient.record_number
    [event] = _exports(course)
    assert (event.actor_id, event.patient_id, event.clinic_id) == (
        therapist.pk,
        course.patient_id,
        course.clinic_id,
    )


def test_the_clinic_admin_downloads_it_too(admin_client_, clinic_admin, course):
    response = admin_client_.get(_url(course))
    assert response.status_code == 200
    assert [e.actor_id for e in _exports(course)] == [clinic_admin.pk]


def test_another_therapist_and_another_clinics_admin_get_404(
    other_therapist, other_clinic_admin, course
):
    for user in (other_therapist, other_clinic_admin):
        assert login(Client(), user).get(_url(course)).status_code == 404
    assert not _exports(course).exists()


def test_a_patients_portal_session_gets_nothing(course, therapist):
    cache.clear()
    _, url = portal_link_create(patient=course.patient, by=therapist)
    client = Client()
    assert open_portal(client, url).status_code == 302
    response = client.get(_url(course))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    assert not _exports(course).exists()


def test_the_course_page_links_to_it(therapist_client, course):
    page = therapist_client.get(reverse("phases:course", args=[course.pk]))
    assert _url(course) in page.content.decode()
