"""Every answer under /p/ carries the portal's private headers, also those no portal view
wrote: a CSRF refusal, a wrong method, an unknown address."""

import pytest
from django.test import Client
from django.urls import reverse

from patients.portal_links import portal_link_create
from tests.portal.links import open_portal

pytestmark = pytest.mark.django_db


def _assert_private(response) -> None:
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]


@pytest.fixture
def portal_csrf_client(course, therapist) -> Client:
    client = Client(enforce_csrf_checks=True)
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(client, url).status_code == 302
    return client


def test_it_marks_a_csrf_refusal_in_the_portal_private(portal_csrf_client):
    response = portal_csrf_client.post(reverse("portal:leave"))
    assert response.status_code == 403
    _assert_private(response)


def test_it_marks_a_wrong_method_in_the_portal_private(portal_csrf_client, therapist_client):
    response = portal_csrf_client.get(reverse("portal:leave"))
    assert response.status_code == 405
    _assert_private(response)
    # The staff side under /p/ too (no portal decorator there).
    response = therapist_client.get(reverse("portal:activity_seen"))
    assert response.status_code == 405
    _assert_private(response)


def test_it_marks_an_unknown_portal_address_private():
    response = Client().get("/p/no/such/page/")
    assert response.status_code == 404
    _assert_private(response)


def test_it_leaves_staff_pages_with_the_staff_policy(client):
    response = client.get(reverse("accounts:login"))
    assert response["Referrer-Policy"] == "same-origin"
    assert "X-Robots-Tag" not in response
