import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ipt_clinic.audit.models import AuditAction, AuditEvent

from .conftest import current_code, password_step, wrong_code

pytestmark = pytest.mark.django_db


def _enrol(client: Client) -> list[str]:
    """Password, then set up the authenticator; returns the recovery codes shown."""
    assert password_step(client, "alice")["Location"] == reverse("accounts:mfa_enrol")
    page = client.get(reverse("accounts:mfa_enrol"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("accounts:mfa_enrol"), {"code": current_code(device)})
    assert response["Location"] == reverse("accounts:recovery_codes")
    shown = client.get(reverse("accounts:recovery_codes")).content.decode()
    listing = shown.split('id="recovery-codes"')[1].split("</ul>")[0]
    return re.findall(r"<li>([a-z2-7]+)</li>", listing)


def test_it_shows_a_qr_code_and_the_secret_on_first_login(client, therapist):
    password_step(client, "alice")
    page = client.get(reverse("accounts:mfa_enrol"))
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=therapist, confirmed=False)
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert secret[:4] in html and secret[-4:] in html
    # A second visit shows the same secret (the phone may have scanned the first one).
    client.get(reverse("accounts:mfa_enrol"))
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_it_confirms_the_authenticator_and_shows_ten_recovery_codes_once(client, therapist):
    codes = _enrol(client)
    assert len(codes) == 10 == len(set(codes))
    assert TOTPDevice.objects.get(user=therapist).confirmed
    stored = set(StaticToken.objects.filter(device__user=therapist).values_list("token", flat=True))
    assert stored == set(codes)
    assert "otp_device_id" in client.session
    again = client.get(reverse("accounts:recovery_codes")).content.decode()
    assert codes[0] not in again
    assert "10 unused recovery codes" in again
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=therapist).exists()


def test_it_refuses_a_wrong_code_at_enrolment(client, therapist):
    password_step(client, "alice")
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("accounts:mfa_enrol"), {"code": wrong_code(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    assert "otp_device_id" not in client.session
    assert not StaticDevice.objects.exists()


def test_it_never_lets_a_password_only_session_replace_the_authenticator(
    client, therapist, authenticator
):
    password_step(client, "alice")
    response = client.get(reverse("accounts:mfa_enrol"))
    assert response["Location"] == reverse("accounts:mfa")
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_it_accepts_a_recovery_code_once(therapist):
    codes = _enrol(Client())
    first = Client()
    password_step(first, "alice")
    response = first.post(reverse("accounts:mfa"), {"code": codes[3].upper()})
    assert response.status_code == 302
    assert "otp_device_id" in first.session
    assert "recovery code" in AuditEvent.objects.filter(action=AuditAction.LOGIN).first().summary
    second = Client()
    password_step(second, "alice")
    StaticDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    response = second.post(reverse("accounts:mfa"), {"code": codes[3]})
    assert response.status_code == 200
    assert "otp_device_id" not in second.session
    assert StaticToken.objects.count() == 9


def test_it_replaces_recovery_codes_on_request(client, therapist):
    old = _enrol(client)
    client.post(reverse("accounts:recovery_codes"))
    new = set(StaticToken.objects.values_list("token", flat=True))
    assert len(new) == 10
    assert not new & set(old)


def test_it_keeps_recovery_codes_behind_the_second_factor(client, therapist, authenticator):
    password_step(client, "alice")
    assert client.get(reverse("accounts:recovery_codes"))["Location"] == reverse("accounts:mfa")
    client.post(reverse("accounts:recovery_codes"))
    assert not StaticToken.objects.exists()


def test_the_totp_code_matches_what_an_app_computes(therapist, authenticator):
    # The QR code's otpauth URL carries the same key the server checks against.
    from base64 import b32decode
    from urllib.parse import parse_qs, urlsplit

    secret = parse_qs(urlsplit(authenticator.config_url).query)["secret"][0]
    assert totp(b32decode(secret)) == totp(authenticator.bin_key)
    assert "IPT%20Clinic" in authenticator.config_url
