import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import StaffSession
from ipt_clinic.accounts.services import staff_deactivate
from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGE = "accounts:recovery_codes"


def _with_cookie(key: str) -> Client:
    client = Client()
    client.cookies["sessionid"] = key
    return client


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


def test_logout_ends_the_server_side_session(therapist):
    client = login(Client(), therapist)
    key = client.session.session_key
    assert StaffSession.objects.filter(session_key=key).exists()
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert not Session.objects.filter(session_key=key).exists()
    assert not StaffSession.objects.filter(session_key=key).exists()
    # Someone who copied the cookie before logout gets the login page.
    assert _sent_to_login(_with_cookie(key).get(reverse(PAGE)))
    event = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert event.actor == therapist and event.summary == "Logged out"


def test_logout_needs_a_post(therapist):
    client = login(Client(), therapist)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse(PAGE)).status_code == 200


def test_deactivation_ends_every_session_of_the_user_at_once(therapist, clinic_admin):
    laptop = login(Client(), therapist)
    phone = login(Client(), therapist)
    colleague = login(Client(), clinic_admin)
    keys = [laptop.session.session_key, phone.session.session_key]
    assert laptop.get(reverse(PAGE)).status_code == 200

    staff_deactivate(user=therapist, by=clinic_admin)

    therapist.refresh_from_db()
    assert therapist.is_active is False
    assert therapist.deactivated_at is not None
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not StaffSession.objects.filter(user=therapist).exists()
    assert _sent_to_login(laptop.get(reverse(PAGE)))
    assert _sent_to_login(phone.get(reverse(PAGE)))
    assert colleague.get(reverse(PAGE)).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.STAFF)
    assert event.actor == clinic_admin and event.object_id == therapist.pk
    assert "2 session(s)" in event.summary


def test_a_deactivated_user_cannot_log_in_again(client, therapist, clinic_admin, settings):
    settings.MFA_REQUIRED = False
    staff_deactivate(user=therapist, by=clinic_admin)
    client.post(
        reverse("accounts:login"),
        {"login": "alice", "password": "correct horse battery staple"},
    )
    assert "_auth_user_id" not in client.session


def test_only_a_clinic_admin_of_the_same_clinic_may_deactivate(
    therapist, other_therapist, other_clinic_admin, clinic_admin
):
    with pytest.raises(PermissionDenied):
        staff_deactivate(user=therapist, by=other_therapist)
    with pytest.raises(PermissionDenied):
        staff_deactivate(user=therapist, by=other_clinic_admin)
    with pytest.raises(ValidationError):
        staff_deactivate(user=clinic_admin, by=clinic_admin)
    therapist.refresh_from_db()
    assert therapist.is_active


def test_deactivating_twice_changes_nothing_more(therapist, clinic_admin):
    first = staff_deactivate(user=therapist, by=clinic_admin).deactivated_at
    again = staff_deactivate(user=therapist, by=clinic_admin).deactivated_at
    assert first == again
    assert AuditEvent.objects.filter(action=AuditAction.STAFF).count() == 1
