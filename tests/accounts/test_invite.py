import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.accounts.services import staff_deactivate, staff_invite
from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.outbox_run import deliver_due

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and new passphrase 42"


@pytest.fixture
def invited(clinic, clinic_admin, settings):
    """An invitation sent through the outbox, and the link its mail carries."""
    settings.SITE_URL = "https://clinic.example.org"
    user = staff_invite(
        clinic=clinic,
        email="Erin.New@Example.org",
        first_name="Erin",
        last_name="New",
        role=Role.THERAPIST,
        by=clinic_admin,
    )
    assert deliver_due() == ["sent"]
    [url] = re.findall(r"https://clinic\.example\.org/accounts/invite/\S+", mail.outbox[0].body)
    return user, url


def _path(url: str) -> str:
    return url.removeprefix("https://clinic.example.org")


def test_it_creates_an_inactive_account_and_emails_the_link(invited, clinic, clinic_admin):
    user, url = invited
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.email == "erin.new@example.org" and user.clinic == clinic
    assert url.startswith("https://clinic.example.org/accounts/invite/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erin.new@example.org"]
    assert url in message.body
    assert "Riverside Clinic" in message.subject
    event = AuditEvent.objects.get(action=AuditAction.STAFF)
    assert event.actor == clinic_admin and event.object_id == user.pk


def test_it_sets_the_password_through_the_link_once(invited, settings):
    user, url = invited
    client = Client()
    page = client.get(_path(url))
    assert page.status_code == 200
    assert "Set password" in page.content.decode()
    response = client.post(
        _path(url), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:login")
    user.refresh_from_db()
    assert user.is_active and user.check_password(NEW_PASSWORD)
    # The same link no longer works.
    again = Client().get(_path(url)).content.decode()
    assert "does not work" in again
    # And the new member of staff can log in (then set up the authenticator).
    settings.MFA_REQUIRED = True
    login = Client().post(
        reverse("accounts:login"), {"login": "erin.new@example.org", "password": NEW_PASSWORD}
    )
    assert login["Location"] == reverse("accounts:mfa_enrol")


def test_it_refuses_mismatched_passwords(invited):
    user, url = invited
    response = Client().post(_path(url), {"new_password1": NEW_PASSWORD, "new_password2": "x"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_active


def test_it_refuses_a_tampered_or_withdrawn_link(invited, clinic_admin):
    user, url = invited
    tampered = re.sub(r"/([^/]+)/$", "/0-0000/", _path(url))
    assert "does not work" in Client().get(tampered).content.decode()
    staff_deactivate(user=user, by=clinic_admin)
    assert "does not work" in Client().get(_path(url)).content.decode()


def test_it_refuses_a_taken_email_address(clinic, clinic_admin, therapist):
    with pytest.raises(ValidationError):
        staff_invite(
            clinic=clinic,
            email="ALICE@example.org",
            first_name="A",
            last_name="B",
            role=Role.THERAPIST,
            by=clinic_admin,
        )


def test_only_a_clinic_admin_of_that_clinic_may_invite(clinic, therapist, other_clinic_admin):
    for by in (therapist, other_clinic_admin):
        with pytest.raises(PermissionDenied):
            staff_invite(
                clinic=clinic,
                email="x@example.org",
                first_name="X",
                last_name="Y",
                role=Role.THERAPIST,
                by=by,
            )
    assert not User.objects.filter(email="x@example.org").exists()
