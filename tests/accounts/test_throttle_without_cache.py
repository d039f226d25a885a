"""With Redis (the shared cache) gone, staff still log in, wrong passwords are still counted
(in the database), and a patient's portal link still opens. A real redis-server of the
test's own is started, used, then stopped: the throttles meet a refused connection, as in
production when Redis is down."""

import logging
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import ThrottleWindow
from patients.portal_links import portal_link_create
from tests.notifications.harness import RedisServer
from tests.portal.links import open_portal

from .conftest import password_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings, tmp_path):
    """Django's cache on a redis-server of this test's own; ``.stop()`` takes it away."""
    server = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield server
    server.stop()


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2027, 1, 15, 8, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 300
    settings.MFA_REQUIRED = False


def test_it_lets_staff_log_in_with_the_cache_down(redis_cache, therapist, clock, caplog):
    assert password_step(Client(), "alice").status_code == 302  # with Redis up
    redis_cache.stop()
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING, logger="ipt_clinic.accounts.throttle"):
        response = password_step(client, "alice")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(therapist.pk)
    assert "the cache cannot be reached" in caplog.text


def test_it_still_counts_wrong_passwords_with_the_cache_down(redis_cache, therapist, clock):
    redis_cache.stop()
    for _ in range(3):
        response = password_step(Client(raise_request_exception=False), "alice", "wrong")
        assert response.status_code == 200
    # Account and address, address, and the account's hourly ceiling.
    assert ThrottleWindow.objects.filter(failures=3).count() == 3
    refused = password_step(Client(raise_request_exception=False), "alice")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "300"
    clock.shift(301)
    assert password_step(Client(raise_request_exception=False), "alice").status_code == 302


def test_it_opens_a_portal_link_with_the_cache_down(redis_cache, course, therapist):
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    redis_cache.stop()
    client = Client(raise_request_exception=False)
    response = open_portal(client, url)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    unknown = client.get(reverse("portal:exchange", kwargs={"token": "no-such-token"}))
    assert unknown.status_code == 404
