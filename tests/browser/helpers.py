"""Steps the journeys share: logging in through the real form with a TOTP code."""

import re
from datetime import timedelta

from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.factories import UserFactory

from .conftest import checked

PASSWORD = "correct horse battery staple"  # what tests/factories.py gives every user


def staff_with_authenticator(**fields):
    user = UserFactory(**fields)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def log_in(page: Page, username: str, device: TOTPDevice) -> None:
    """Password, then the authenticator's current code, as a person would type them."""
    page.goto("/accounts/login/")
    checked(page)
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    checked(page)
    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("Verification code").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    checked(page)


def local_today():
    return timezone.localdate()


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()
