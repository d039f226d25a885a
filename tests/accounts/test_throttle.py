import os
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts import throttle
from ipt_clinic.audit.models import AuditAction, AuditEvent

from .conftest import current_code, password_step, wrong_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 300
    settings.MFA_REQUIRED = False


@pytest.fixture
def clock(monkeypatch):
    """Moves the throttle's clock instead of sleeping."""
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(throttle, "_now", lambda: now["t"])
    return now


def _fail(client: Client, login: str = "alice", **extra):
    return password_step(client, login, "wrong password", **extra)


def test_it_answers_429_with_retry_after_once_an_account_has_too_many_failures(
    client, therapist, clock
):
    for _ in range(3):
        assert _fail(client).status_code == 200
    clock["t"] += 100
    response = password_step(client, "alice")  # even the right password waits
    assert response.status_code == 429
    assert response["Retry-After"] == "200"
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, summary__startswith="Refused"
    ).exists()


def test_it_counts_username_and_email_as_one_account(client, therapist, clock):
    _fail(client, "alice")
    _fail(client, "alice@example.org")
    _fail(client, "ALICE")
    assert password_step(client, "alice@example.org").status_code == 429


def test_it_throttles_one_account_without_touching_others_from_elsewhere(
    therapist, other_therapist, clock
):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        _fail(attacker, "alice")
    colleague = Client(REMOTE_ADDR="198.51.100.7")
    assert password_step(colleague, "bob").status_code == 302


def test_it_throttles_an_address_that_tries_many_accounts(therapist, other_therapist, clock):
    spray = Client(REMOTE_ADDR="203.0.113.9")
    for name in ["x1", "x2", "x3", "x4", "x5"]:
        assert _fail(spray, name).status_code == 200
    response = password_step(spray, "bob")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 300
    # Bob, from his own address, is not affected.
    assert password_step(Client(REMOTE_ADDR="198.51.100.7"), "bob").status_code == 302


def test_it_lifts_the_throttle_when_the_window_ends(client, therapist, clock):
    for _ in range(3):
        _fail(client)
    assert password_step(client, "alice").status_code == 429
    clock["t"] += 301
    response = password_step(client, "alice")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(therapist.pk)


def test_it_forgets_the_account_failures_after_a_full_login(client, therapist, clock):
    _fail(client)
    _fail(client)
    password_step(client, "alice")
    other = Client()
    _fail(other)
    _fail(other)
    assert password_step(Client(), "alice").status_code == 302


def test_it_throttles_the_code_step_too(client, therapist, authenticator, settings, clock):
    settings.MFA_REQUIRED = True
    password_step(client, "alice")
    for _ in range(3):
        assert (
            client.post(reverse("accounts:mfa"), {"code": wrong_code(authenticator)}).status_code
            == 200
        )
    response = client.post(reverse("accounts:mfa"), {"code": current_code(authenticator)})
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert "otp_device_id" not in client.session


def test_it_uses_the_forwarded_address_behind_a_trusted_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert throttle.client_address(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 0
    assert throttle.client_address(request) == "10.0.0.2"


# The counters must work in the cache the web processes share: Redis when REDIS_URL is set.
SHARED_CACHES = {"locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("REDIS_URL"):
    SHARED_CACHES["redis"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}",
    }


@pytest.mark.parametrize("backend", sorted(SHARED_CACHES))
def test_it_counts_failures_in_the_shared_cache(backend, therapist, settings, clock):
    settings.CACHES = {"default": SHARED_CACHES[backend]}
    try:
        for _ in range(3):
            assert _fail(Client()).status_code == 200  # a new client each time: no cookies
        assert password_step(Client(), "alice").status_code == 429
        clock["t"] += 301
        assert password_step(Client(), "alice").status_code == 302
    finally:
        # Delete only our keys: a shared Redis may hold other things (never flush it).
        for kind, ident in (("account", f"user:{therapist.pk}"), ("address", "127.0.0.1")):
            key = throttle._Bucket(kind, ident, 0).key
            cache.delete_many([f"{key}:start", f"{key}:count"])
