"""Login throttling through the real login views: per account and address, per address, and
the account-wide ceiling; the same answers whatever the name typed resolves to."""

import os
import re
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ipt_clinic.accounts import throttle
from ipt_clinic.audit.models import AuditAction, AuditEvent

from .conftest import PASSWORD, current_code, password_step, wrong_code

pytestmark = pytest.mark.django_db

ATTACKER, ALICE_DESK, ELSEWHERE = "203.0.113.9", "198.51.100.7", "192.0.2.50"
WRONG = "wrong password"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 300
    settings.LOGIN_THROTTLE_ACCOUNT_PER_HOUR = 100
    settings.MFA_REQUIRED = False


@pytest.fixture
def clock():
    """A frozen clock; ``clock.shift(seconds)`` moves it on instead of sleeping."""
    with time_machine.travel(datetime(2027, 1, 15, 8, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def _fail(client: Client, login: str = "alice", **extra):
    return password_step(client, login, WRONG, **extra)


def test_it_answers_429_with_retry_after_once_an_account_has_too_many_failures(
    client, therapist, clock
):
    for _ in range(3):
        assert _fail(client).status_code == 200
    clock.shift(100)
    response = password_step(client, "alice")  # even the right password waits, from here
    assert response.status_code == 429
    assert response["Retry-After"] == "200"
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, summary__startswith="Refused"
    ).exists()


def test_a_stranger_cannot_lock_a_clinician_out_from_their_own_address(therapist, clock):
    stranger = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        _fail(stranger, "alice")
    assert password_step(stranger, "alice").status_code == 429  # the stranger waits
    for _ in range(10):  # and again, window after window
        clock.shift(301)
        for _ in range(3):
            _fail(stranger, "alice")
        alice = Client(REMOTE_ADDR=ALICE_DESK)
        assert password_step(alice, "alice").status_code == 302
        assert alice.session["_auth_user_id"] == str(therapist.pk)


def test_it_throttles_one_account_without_touching_others_from_elsewhere(
    therapist, other_therapist, clock
):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        _fail(attacker, "alice")
    colleague = Client(REMOTE_ADDR=ALICE_DESK)
    assert password_step(colleague, "bob").status_code == 302


def test_it_throttles_an_address_that_tries_many_accounts(therapist, other_therapist, clock):
    spray = Client(REMOTE_ADDR=ATTACKER)
    for name in ["x1", "x2", "x3", "x4", "x5"]:
        assert _fail(spray, name).status_code == 200
    response = password_step(spray, "bob")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 300
    # Bob, from his own address, is not affected.
    assert password_step(Client(REMOTE_ADDR=ALICE_DESK), "bob").status_code == 302


def _answer(response) -> tuple:
    """An answer as its reader gets it: status, Retry-After and the page, less what differs
    on every response (the CSRF token, the script nonce) and the values typed back into the
    form."""
    page = re.sub(r'(value=|nonce=|"X-CSRFToken": )"[^"]*"', r'\1""', response.content.decode())
    return response.status_code, response.get("Retry-After"), page


class _CountingHasher(MD5PasswordHasher):
    """The test settings' hasher, counting the hashes computed (the work a login does, which
    is what its time depends on)."""

    computed = 0

    def encode(self, password, salt):
        type(self).computed += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}._CountingHasher"]
    _CountingHasher.computed = 0
    return _CountingHasher


def _sent(client: Client, login: str, password: str = WRONG) -> tuple:
    """A login attempt as its sender can observe it: the answer, and the work done for it
    (password hashes computed, database queries), which is what its time depends on."""
    hashes = _CountingHasher.computed
    with CaptureQueriesContext(connection) as queries:
        response = password_step(client, login, password)
    return _answer(response), _CountingHasher.computed - hashes, len(queries)


def test_it_answers_the_same_whatever_the_name_typed_resolves_to(therapist, clock):
    """A username, the same person's email address and a name nobody has: failures for one
    name never throttle another (which would tell that they belong together), and each is
    refused at the same attempt, for as long, with the same page and the same work done."""
    therapist.email = "alice@example.org"
    therapist.save()

    def attempts(address: str, first: str, second: str) -> list:
        client = Client(REMOTE_ADDR=address)
        return [_sent(client, first) for _ in range(4)] + [_sent(client, second)]

    username_then_email = attempts("203.0.113.1", "alice", "alice@example.org")
    email_then_username = attempts("203.0.113.2", "ALICE@example.org", "alice")
    nobody = attempts("203.0.113.3", "ghost", "ghost@example.org")
    assert username_then_email == email_then_username == nobody
    assert [answer[0] for answer, _h, _q in username_then_email] == [200, 200, 200, 429, 200]
    # One hash per attempt let through, none when refused.
    assert [hashes for _a, hashes, _q in username_then_email] == [1, 1, 1, 0, 1]


def test_it_refuses_an_account_everywhere_new_past_the_hourly_ceiling(settings, therapist, clock):
    settings.LOGIN_THROTTLE_ACCOUNT_PER_HOUR = 6
    for n in range(3):  # guessing from many addresses, within each one's own limit
        guesser = Client(REMOTE_ADDR=f"203.0.113.{10 + n}")
        _fail(guesser, "alice")
        _fail(guesser, "alice")
    refused = _sent(Client(REMOTE_ADDR=ELSEWHERE), "alice", PASSWORD)
    assert refused[0][:2] == (429, "3600")
    # A name nobody has is refused the same way once it has as many failures.
    for n in range(3):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{20 + n}")
        _fail(guesser, "ghost")
        _fail(guesser, "ghost")
    assert _sent(Client(REMOTE_ADDR=ELSEWHERE), "ghost") == refused
    clock.shift(3600)
    assert password_step(Client(REMOTE_ADDR=ELSEWHERE), "alice").status_code == 302


def test_the_ceiling_spares_the_addresses_the_clinician_logs_in_from(settings, therapist, clock):
    settings.LOGIN_THROTTLE_ACCOUNT_PER_HOUR = 6
    password_step(Client(REMOTE_ADDR=ALICE_DESK), "alice")  # her desk, last week
    clock.shift(7 * 24 * 3600)
    for n in range(3):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{10 + n}")
        _fail(guesser, "alice")
        _fail(guesser, "alice")
    assert password_step(Client(REMOTE_ADDR=ELSEWHERE), "alice").status_code == 429
    at_her_desk = Client(REMOTE_ADDR=ALICE_DESK)
    assert password_step(at_her_desk, "alice").status_code == 302
    assert at_her_desk.session["_auth_user_id"] == str(therapist.pk)
    # An address she has not logged in from for longer than that is not hers any more.
    clock.shift(31 * 24 * 3600)
    for n in range(3):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{10 + n}")
        _fail(guesser, "alice")
        _fail(guesser, "alice")
    assert password_step(Client(REMOTE_ADDR=ALICE_DESK), "alice").status_code == 429


def test_it_lifts_the_throttle_when_the_window_ends(client, therapist, clock):
    for _ in range(3):
        _fail(client)
    assert password_step(client, "alice").status_code == 429
    clock.shift(301)
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


def test_a_login_does_not_wipe_a_strangers_failures(therapist, clock):
    stranger = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        _fail(stranger, "alice")
    assert password_step(Client(REMOTE_ADDR=ALICE_DESK), "alice").status_code == 302
    assert password_step(stranger, "alice").status_code == 429


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
        clock.shift(301)
        assert password_step(Client(), "alice").status_code == 302
    finally:
        # Delete only our keys: a shared Redis may hold other things (never flush it).
        request = Client().get("/").wsgi_request
        for bucket in throttle._buckets(request, throttle.account_for_login("alice")):
            cache.delete_many([f"{bucket.key}:start", f"{bucket.key}:count"])
