"""A ``next`` address naming another site never takes anyone there: not after the password,
not after the second factor, not for someone already logged in, not on the "Continue" button
after setting up an authenticator. Each form of "another site" a browser follows is tried."""

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import PASSWORD, current_code
from tests.conftest import login

pytestmark = pytest.mark.django_db

ELSEWHERE = [
    "https://evil.example/",
    "http://evil.example/patients/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example/",
    "http:/evil.example/",
    "https://testserver@evil.example/",
    "javascript:alert(document.cookie)",
    "\x01//evil.example/",
    "ftp://evil.example/",
]
HOME = reverse("home")
CREDENTIALS = {"login": "alice", "password": PASSWORD}


@pytest.fixture(autouse=True)
def _clean_throttles():
    cache.clear()  # the login throttle's counters
    yield
    cache.clear()


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_login_goes_home_instead_of_another_site(therapist, settings, target):
    settings.MFA_REQUIRED = True
    device = TOTPDevice.objects.create(user=therapist, name="phone", confirmed=True)
    for where in ("form", "address"):
        client = Client()
        login_url = reverse("accounts:login")
        page = client.get(login_url, {"next": target})
        assert "evil.example" not in page.content.decode()  # not even in the hidden field
        if where == "form":
            client.post(login_url, {**CREDENTIALS, "next": target})
        else:
            client.post(f"{login_url}?{urlencode({'next': target})}", CREDENTIALS)
        response = client.post(reverse("accounts:mfa"), {"code": current_code(device)})
        assert response["Location"] == HOME, f"{where}: {response['Location']}"
        device.refresh_from_db()
        device.last_t = -1  # the next round's login may use the same time step
        device.save()


@pytest.mark.parametrize("target", ELSEWHERE)
def test_someone_already_logged_in_goes_home_instead_of_another_site(therapist, target):
    client = login(Client(), therapist)
    response = client.get(reverse("accounts:login"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == HOME


@pytest.mark.parametrize("target", ELSEWHERE[:4])
def test_the_continue_button_after_enrolment_stays_on_the_site(therapist, settings, target):
    settings.MFA_REQUIRED = True
    client = Client()
    client.post(reverse("accounts:login"), {**CREDENTIALS, "next": target})
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(user=therapist, confirmed=False)
    client.post(reverse("accounts:mfa_enrol"), {"code": current_code(device)})
    page = client.get(reverse("accounts:recovery_codes")).content.decode()
    [continue_to] = re.findall(r'<a class="btn btn-primary" href="([^"]*)">Continue</a>', page)
    assert continue_to == HOME
