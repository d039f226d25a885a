"""A recovery code logs in once: used in one browser, it is refused in another, written in
capitals or with spaces, and long after every throttle has forgotten the failures; codes
replaced by new ones stop working."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import PASSWORD, current_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    cache.clear()  # the login throttle's counters
    with time_machine.travel(datetime(2027, 1, 15, 8, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller
    cache.clear()


def _password(client: Client):
    return client.post(reverse("accounts:login"), {"login": "alice", "password": PASSWORD})


def _codes_on(page) -> list[str]:
    listing = page.content.decode().split('id="recovery-codes"')[1].split("</ul>")[0]
    return re.findall(r"<li>([a-z2-7]+)</li>", listing)


def _enrol(settings) -> list[str]:
    settings.MFA_REQUIRED = True
    client = Client()
    _password(client)
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(confirmed=False)
    client.post(reverse("accounts:mfa_enrol"), {"code": current_code(device)})
    return _codes_on(client.get(reverse("accounts:recovery_codes")))


def _second_step(code: str) -> tuple[int, bool]:
    """A new browser: the password, then ``code``. (status, logged in fully?)"""
    client = Client()
    _password(client)
    response = client.post(reverse("accounts:mfa"), {"code": code})
    return response.status_code, "otp_device_id" in client.session


def test_a_used_recovery_code_is_refused_everywhere_for_good(therapist, settings, clock):
    codes = _enrol(settings)
    assert len(codes) == 10
    assert _second_step(codes[0]) == (302, True)
    for later in (0, 60, 24 * 3600):  # at once, then past every throttle's window
        clock.shift(later)
        for written in (codes[0], codes[0].upper(), f" {codes[0][:4]} {codes[0][4:]} "):
            assert _second_step(written) == (200, False), (later, written)
        cache.clear()
    clock.shift(3600)
    assert _second_step(codes[1]) == (302, True)  # the others still work, once each


def test_replaced_recovery_codes_stop_working(therapist, settings, clock):
    old = _enrol(settings)
    clock.shift(60)  # the authenticator's next code: the enrolment used this one
    client = Client()
    _password(client)
    authenticator = TOTPDevice.objects.get(user=therapist)
    client.post(reverse("accounts:mfa"), {"code": current_code(authenticator)})
    client.post(reverse("accounts:recovery_codes"))
    new = _codes_on(client.get(reverse("accounts:recovery_codes")))
    assert not set(new) & set(old)
    clock.shift(3600)
    assert _second_step(old[5]) == (200, False)
    clock.shift(3600)
    assert _second_step(new[5]) == (302, True)
