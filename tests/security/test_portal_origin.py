"""Portal forms work in real browsers: under the portal's no-referrer policy a browser posts
with ``Origin: null``; the portal accepts that only from its own pages (Fetch Metadata
``Sec-Fetch-Site: same-origin``), only under /p/, and never without the CSRF token.
The browser journey in tests/browser/test_patient_journey.py posts the same forms from
Chromium."""

import pytest
from django.test import Client
from django.urls import reverse

from patients.portal_links import portal_link_create
from sessions.models import Assignment
from tests.conftest import login
from tests.factories import AssignmentFactory
from tests.portal.links import open_portal

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "same-origin"}


@pytest.fixture
def portal(course, therapist):
    client = Client(enforce_csrf_checks=True)
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(client, url).status_code == 302
    assignment = AssignmentFactory(course=course)
    page = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    client.get(page)
    return client, page, assignment


def _report(client, page, token=True, **headers):
    data = {"status": "done", "reflection": "It went well."}
    if token:
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post(page, data, **headers)


def test_it_accepts_a_portal_form_posted_with_a_null_origin_from_its_own_page(portal):
    client, page, assignment = portal
    response = _report(client, page, **SAME_ORIGIN)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == "done"


def test_it_refuses_a_null_origin_from_another_site(portal):
    client, page, assignment = portal
    response = _report(client, page, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    assert Assignment.objects.get(pk=assignment.pk).status == "assigned"


def test_it_refuses_a_null_origin_without_fetch_metadata(portal):
    client, page, assignment = portal
    assert _report(client, page, HTTP_ORIGIN="null").status_code == 403


def test_it_still_needs_the_csrf_token(portal):
    client, page, assignment = portal
    assert _report(client, page, token=False, **SAME_ORIGIN).status_code == 403
    assert Assignment.objects.get(pk=assignment.pk).status == "assigned"


def test_it_does_not_relax_staff_pages(therapist, patient):
    client = login(Client(enforce_csrf_checks=True), therapist)
    client.get(reverse("patients:list"))
    response = client.post(
        reverse("patients:relationship_create", kwargs={"patient_id": patient.pk}),
        {
            "name": "Sam",
            "kind": "partner",
            "ring": 1,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
        **SAME_ORIGIN,
    )
    assert response.status_code == 403
    assert not patient.relationships.exists()
