"""Forgot password: a link by email through the outbox, the same answer whether or not the
address has an account, throttled, valid once and for a short while, never written to a log;
the second factor is still asked at the next login."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.models import Role
from ipt_clinic.accounts.services import staff_deactivate
from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.conftest import login
from tests.factories import UserFactory
from tests.outbox_run import deliver_due

from .conftest import password_step

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and new passphrase 42"
ASK = reverse("accounts:password_reset")
SENT = reverse("accounts:password_reset_sent")


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://clinic.example.org"
    settings.MFA_REQUIRED = True


def _ask(client: Client, email: str):
    return client.post(ASK, {"email": email})


def _link() -> str:
    """The path of the reset link in the one mail sent."""
    assert deliver_due() == ["sent"]
    [message] = mail.outbox
    [url] = re.findall(r"https://clinic\.example\.org(/accounts/password/reset/\S+)", message.body)
    return url


def _set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    opened = client.get(link)
    assert opened.status_code == 302  # the token moves into the session, out of the address
    form = client.get(opened["Location"])
    assert "Choose a new password" in form.content.decode()
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_the_login_page_leads_to_it():
    body = Client().get(reverse("accounts:login")).content.decode()
    assert f'<a href="{ASK}">Forgot your password?</a>' in body


def test_it_emails_a_link_that_sets_a_new_password(site, therapist):
    client = Client()
    response = _ask(client, "ALICE@example.org")
    assert response.status_code == 302 and response["Location"] == SENT
    assert "a link to choose a new password is on its way" in client.get(SENT).content.decode()

    link = _link()
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your IPT Clinic password"
    assert "for 60 minutes" in message.body
    assert "you will still be asked for the code from your authenticator app" in message.body

    done = _set_password(client, link)
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")
    therapist.refresh_from_db()
    assert therapist.check_password(NEW_PASSWORD)
    events = AuditEvent.objects.filter(
        object_type="accounts.user", object_id=therapist.pk, action=AuditAction.STAFF
    )
    assert [event.summary for event in events] == [
        "Reset their password through an email link; 0 session(s) ended",
        "Asked for a password reset link by email",
    ]


def _without_nonces(response) -> str:
    """The page without what differs on every request (the CSP nonce, the CSRF token)."""
    page = re.sub(r'nonce="[^"]*"', "", response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


def test_it_answers_the_same_whether_or_not_an_account_uses_the_address(site, therapist):
    known, unknown = Client(), Client()
    found = _ask(known, "alice@example.org")
    missing = _ask(unknown, "nobody@example.org")
    assert (found.status_code, found["Location"]) == (missing.status_code, missing["Location"])
    assert _without_nonces(known.get(SENT)) == _without_nonces(unknown.get(SENT))
    assert deliver_due() == ["sent"]
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


@pytest.mark.parametrize("who", ["deactivated", "invited"])
def test_no_mail_goes_to_an_account_that_cannot_log_in(site, clinic, clinic_admin, who):
    user = UserFactory(username="erin", email="erin@example.org", clinic=clinic)
    if who == "invited":
        user.is_active = False
        user.set_unusable_password()
        user.save()
    else:
        staff_deactivate(user=user, by=clinic_admin)
    assert _ask(Client(), "erin@example.org")["Location"] == SENT
    assert deliver_due() == []
    assert mail.outbox == []


def test_after_a_reset_the_second_factor_is_still_asked(site, therapist, authenticator):
    _ask(Client(), therapist.email)
    _set_password(Client(), _link())
    client = Client()
    response = password_step(client, "alice", NEW_PASSWORD)
    assert response["Location"] == reverse("accounts:mfa")
    assert client.get(reverse("caseload:therapist_home"))["Location"] == reverse("accounts:mfa")


def test_a_reset_logs_the_account_out_everywhere(site, therapist):
    elsewhere = login(Client(), therapist)
    assert elsewhere.get(reverse("caseload:therapist_home")).status_code == 200
    _ask(Client(), therapist.email)
    _set_password(Client(), _link())
    assert elsewhere.get(reverse("caseload:therapist_home")).status_code == 302
    assert not Session.objects.filter(session_key=elsewhere.session.session_key).exists()


def test_the_link_works_once(site, therapist):
    _ask(Client(), therapist.email)
    link = _link()
    _set_password(Client(), link)
    again = Client().get(link, follow=True).content.decode()
    assert "This reset link does not work" in again
    therapist.refresh_from_db()
    assert therapist.check_password(NEW_PASSWORD)


def test_the_link_runs_out_after_an_hour_from_its_sending(site, therapist):
    sent_at = timezone.now()
    with time_machine.travel(sent_at, tick=False):
        _ask(Client(), therapist.email)
        link = _link()
    with time_machine.travel(sent_at + timedelta(minutes=59), tick=False):
        assert Client().get(link).status_code == 302
    with time_machine.travel(sent_at + timedelta(minutes=61), tick=False):
        page = Client().get(link)
        assert page.status_code == 200
        assert "This reset link does not work" in page.content.decode()


def test_a_link_made_for_another_account_or_tampered_with_does_nothing(site, therapist):
    _ask(Client(), therapist.email)
    link = _link()
    tampered = re.sub(r"/([^/]+)/$", "/0-0000/", link)
    assert "This reset link does not work" in Client().get(tampered).content.decode()
    other = UserFactory(username="zoe", clinic=therapist.clinic)
    uid = link.split("/")[-3]
    foreign = link.replace(f"/{uid}/", f"/{_uid(other)}/")
    assert "This reset link does not work" in Client().get(foreign).content.decode()


def _uid(user) -> str:
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(force_bytes(user.pk))


def test_deactivation_kills_an_unused_link(site, therapist, clinic_admin):
    _ask(Client(), therapist.email)
    link = _link()
    staff_deactivate(user=therapist, by=clinic_admin)
    assert "This reset link does not work" in Client().get(link).content.decode()


def test_it_is_throttled_per_address_typed_and_per_client_address(site, therapist, settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        assert _ask(client, "alice@example.org").status_code == 302
    refused = _ask(client, "alice@example.org")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.content.decode()
    # The same answer for an address nobody uses.
    for _ in range(2):
        assert _ask(client, "nobody@example.org").status_code == 302
    # Five requests from this client address: any further one waits, whatever the address.
    assert _ask(client, "somebody@example.org").status_code == 429
    # Only the requests let through were queued: one mail for Alice, sent again while unsent.
    assert deliver_due() == ["sent"]


def test_the_token_is_never_logged_nor_stored(site, therapist, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client()
    _ask(client, therapist.email)
    link = _link()
    token = link.rstrip("/").split("/")[-1]
    _set_password(client, link)
    Client().get(link)  # used once: refused now
    assert token not in caplog.text
    assert not [
        event for event in AuditEvent.objects.all() if token in f"{event.summary}{event.changes}"
    ]
    # The outbox's row (whichever app holds the model) keeps no content, the token least of all.
    [outbox] = [model for model in apps.get_models() if model.__name__ == "Notification"]
    assert all(token not in repr(row) for row in outbox.objects.values())


def test_a_clinic_admin_resets_the_same_way(site, clinic):
    UserFactory(username="dina", email="dina@example.org", clinic=clinic, role=Role.CLINIC_ADMIN)
    _ask(Client(), "dina@example.org")
    assert _set_password(Client(), _link()).status_code == 302
