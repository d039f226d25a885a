"""A staff invitation opened in a real browser: its page is kept out of the cache, and its
password form still goes through (a page sending no Referer at all would post it with
"Origin: null", which the CSRF check refuses)."""

import pytest
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import User
from ipt_clinic.accounts.tokens import invite_token_generator
from tests.factories import ClinicFactory

from .conftest import checked

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sets_the_password_from_the_invitation_page(browser, live_server, page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    invited = User.objects.create(
        username="nia.ellis",
        email="nia.ellis@clinic.example",
        first_name="Nia",
        clinic=clinic,
        is_active=False,
    )
    invited.set_unusable_password()
    invited.save()
    url = reverse(
        "accounts:invite_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(str(invited.pk).encode()),
            "token": invite_token_generator.make_token(invited),
        },
    )
    response = page.goto(url)
    assert "no-store" in response.headers["cache-control"]
    expect(page.get_by_role("heading", name="Welcome, Nia")).to_be_visible()
    checked(page)
    passwords = page.locator("input[type=password]")
    passwords.nth(0).fill("a long and new password 2026")
    passwords.nth(1).fill("a long and new password 2026")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()
    invited.refresh_from_db()
    assert invited.is_active and invited.has_usable_password()
