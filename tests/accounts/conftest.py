"""Helpers for the staff-login tests: a clean cache (the throttle counters live there) and
the two steps of a real login through the views."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"  # what tests/factories.py gives every user


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_step(client: Client, login: str, password: str = PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"login": login, "password": password}, **extra)


@pytest.fixture
def authenticator(therapist) -> TOTPDevice:
    return TOTPDevice.objects.create(user=therapist, name="phone", confirmed=True)


def wrong_code(device: TOTPDevice) -> str:
    """A 6-digit code that no time step near now accepts."""
    valid = {
        totp(device.bin_key, device.step, device.t0, device.digits, device.drift + delta)
        for delta in range(-2, 3)
    }
    return next(f"{n:06d}" for n in range(123456, 1000000) if n not in valid)
