"""Portal fixtures: a patient's live link and a browser that has opened it."""

import pytest
from django.core.cache import cache
from django.test import Client

from patients.portal_links import portal_link_create

from .links import open_portal

__all__ = ["open_portal"]


@pytest.fixture(autouse=True)
def _clear_cache():
    # The bad-token counter lives in the cache; each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal_link(course, therapist):
    """(link, url) for the fixture patient, who has an active course."""
    return portal_link_create(patient=course.patient, by=therapist)


@pytest.fixture
def portal_client(portal_link):
    client = Client()
    response = open_portal(client, portal_link[1])
    assert response.status_code == 302
    return client
