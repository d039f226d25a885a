"""A therapist who forgot her password: from the login page to a new password in a few
steps, and the authenticator is still asked for at the next login."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import ClinicFactory
from tests.notifications.conftest import smtp_to
from tests.notifications.harness import SmtpReceiver
from tests.outbox_run import deliver_due

from .conftest import ARTIFACTS, checked
from .helpers import staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a long and new passphrase 42"


@pytest.fixture
def broker_kept_out(monkeypatch):
    """The send tasks the dispatcher would publish are kept here (the test sends in-process)."""
    from kombu import Producer

    monkeypatch.setattr(Producer, "publish", lambda self, body, *args, **kwargs: None)


@pytest.fixture
def mail_server(settings):
    """A real SMTP server the reset mail goes to (and a fresh connection to it)."""
    server = SmtpReceiver()
    server.start()
    smtp_to(settings, server.port)
    yield server
    server.stop()


def test_a_therapist_resets_a_forgotten_password(page: Page, broker_kept_out, mail_server):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    staff_with_authenticator(username="alice", clinic=clinic, first_name="Alice")
    page.set_viewport_size({"width": 1366, "height": 900})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "password-reset-form.png"), full_page=True)
    page.get_by_label("Your work email address").fill("alice@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "password-reset-sent.png"), full_page=True)

    assert deliver_due() == ["sent"]
    [message] = mail_server.messages
    [link] = re.findall(r"https?://\S+(/accounts/password/reset/\S+)", message.get_payload())
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "set-password" in page.url  # the token left the address at once
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "password-reset-confirm.png"), full_page=True)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "password-reset-complete.png"), full_page=True)

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
