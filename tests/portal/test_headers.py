"""Every portal answer keeps the address private and out of caches and search engines."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import PortalLink
from tests.factories import SessionFactory

from .conftest import open_portal


def _assert_private(response):
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


@pytest.mark.parametrize(
    "name", ["portal:home", "portal:sessions", "portal:homework", "portal:plan"]
)
def test_it_sends_private_headers_on_portal_pages(portal_client, name):
    response = portal_client.get(reverse(name))
    assert response.status_code == 200
    _assert_private(response)


def test_it_sends_private_headers_on_the_exchange_and_its_failures(portal_link):
    link, url = portal_link
    _assert_private(open_portal(Client(), url))
    _assert_private(Client().get(reverse("portal:exchange", kwargs={"token": "x" * 43})))
    _assert_private(Client().get(reverse("portal:home")))
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))
    _assert_private(open_portal(Client(), url))


def test_it_sends_private_headers_on_the_calendar_file(portal_client, course):
    session = SessionFactory(course=course)
    response = portal_client.get(reverse("portal:session_ics", kwargs={"session_id": session.pk}))
    assert response.status_code == 200
    _assert_private(response)


def test_it_refuses_a_portal_post_without_the_csrf_token(portal_link, course):
    client = Client(enforce_csrf_checks=True)
    open_portal(client, portal_link[1])
    response = client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": "k" * 20, **{f"item_{n}": 0 for n in range(1, 10)}},
    )
    assert response.status_code == 403
    assert not course.measures.exists()
