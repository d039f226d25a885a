"""“Lost your link?”'s per-address count lives in the cache the web processes share: Redis in
production (a redis-server of the test's own here), the file cache of the embedded default
without it. With Redis gone, a patient still gets their link (the per-patient limit, kept in
the database, still holds)."""

import logging
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from notifications.models import Notification
from patients.notices import PORTAL_LINK_ASKED
from patients.portal_links import portal_link_create
from tests.notifications.harness import RedisServer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PORTAL_LOST_LINK_ANSWER_MS = 1
    settings.PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR = 2


@pytest.fixture
def in_treatment(course, therapist):
    patient = course.patient
    patient.email = "jamie@example.org"
    patient.save()
    portal_link_create(patient=patient, by=therapist)
    return patient


@pytest.fixture(params=["redis", "file"])
def shared_cache(request, settings, tmp_path):
    """Django's cache as production has it: Redis, or the embedded default's file cache."""
    if request.param == "file":
        backend = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
        server = None
    else:
        server = RedisServer(tmp_path).start()
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    settings.CACHES = {"default": backend}
    yield server
    if server is not None:
        server.stop()


def _ask(contact: str):
    return Client(REMOTE_ADDR="203.0.113.7").post("/p/lost/", {"contact": contact})


def _sent() -> int:
    return Notification.objects.filter(kind=PORTAL_LINK_ASKED).count()


def test_it_counts_each_address_in_the_shared_cache(shared_cache, in_treatment):
    with time_machine.travel(NOW, tick=False):
        _ask("someone@example.org")
        _ask("someone.else@example.org")
        # Each request a new client, as separate web processes would see them.
        response = _ask("jamie@example.org")

    assert response["Location"] == "/p/lost/asked/"
    assert _sent() == 0


def test_it_sends_the_link_with_redis_down(settings, tmp_path, in_treatment, caplog):
    server = RedisServer(tmp_path).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    server.stop()

    with caplog.at_level(logging.WARNING, logger="portal.lost_link"):
        response = _ask("jamie@example.org")

    assert response["Location"] == "/p/lost/asked/"
    assert _sent() == 1
    assert "cache cannot be reached" in caplog.text
