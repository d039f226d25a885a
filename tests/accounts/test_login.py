import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import StaffSession
from ipt_clinic.audit.models import AuditAction, AuditEvent

from .conftest import current_code, password_step, wrong_code

pytestmark = pytest.mark.django_db


def _verified(client: Client) -> bool:
    return "otp_device_id" in client.session


def test_it_logs_in_with_password_only_when_mfa_is_off(client, therapist, settings):
    settings.MFA_REQUIRED = False
    response = password_step(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(therapist.pk)
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=therapist).count() == 1


def test_it_accepts_the_email_address_instead_of_the_username(client, therapist, settings):
    settings.MFA_REQUIRED = False
    response = password_step(client, "ALICE@example.org")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(therapist.pk)


def test_it_refuses_a_wrong_password_and_audits_it(client, therapist):
    response = password_step(client, "alice", "not the password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "not right" in response.content.decode()
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.object_id == therapist.pk
    assert failed.clinic_id == therapist.clinic_id
    assert failed.ip_address == "127.0.0.1"


def test_it_refuses_a_deactivated_account_with_the_right_password(client, therapist, settings):
    settings.MFA_REQUIRED = False
    therapist.is_active = False
    therapist.save()
    response = password_step(client, "alice")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_asks_for_the_code_after_the_password_when_mfa_is_on(client, therapist, authenticator):
    response = password_step(client, "alice")
    assert response["Location"] == reverse("accounts:mfa")
    assert not _verified(client)
    # Half logged in: every staff page sends the user back to the second step.
    blocked = client.get(reverse("patients:list"))
    assert blocked.status_code == 302
    assert blocked["Location"] == reverse("accounts:mfa")
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_it_logs_in_with_password_and_authenticator_code(client, therapist, authenticator):
    password_step(client, "alice")
    response = client.post(reverse("accounts:mfa"), {"code": current_code(authenticator)})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _verified(client)
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.actor == therapist
    assert "authenticator app" in login.summary


def test_it_refuses_a_wrong_code(client, therapist, authenticator):
    password_step(client, "alice")
    response = client.post(reverse("accounts:mfa"), {"code": wrong_code(authenticator)})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert not _verified(client)
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, summary="Wrong second-factor code"
    ).exists()


def test_it_refuses_an_authenticator_code_used_once_already(client, therapist, authenticator):
    code = current_code(authenticator)
    password_step(client, "alice")
    client.post(reverse("accounts:mfa"), {"code": code})
    assert _verified(client)
    replay = Client()
    password_step(replay, "alice")
    response = replay.post(reverse("accounts:mfa"), {"code": code})
    assert response.status_code == 200
    assert "otp_device_id" not in replay.session


def test_it_sends_the_user_to_the_page_they_asked_for(client, therapist, authenticator):
    target = reverse("patients:list")
    client.post(
        f"{reverse('accounts:login')}?next={target}",
        {"login": "alice", "password": "correct horse battery staple", "next": target},
    )
    response = client.post(reverse("accounts:mfa"), {"code": current_code(authenticator)})
    assert response["Location"] == target


def test_it_ignores_a_next_address_on_another_site(client, therapist, settings):
    settings.MFA_REQUIRED = False
    response = client.post(
        reverse("accounts:login"),
        {
            "login": "alice",
            "password": "correct horse battery staple",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("home")


def test_it_gives_a_new_session_key_at_login(client, therapist, settings):
    settings.MFA_REQUIRED = False
    before = client.session
    before["note"] = "anonymous visit"
    before.save()
    old_key = before.session_key
    client.cookies["sessionid"] = old_key
    password_step(client, "alice")
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert StaffSession.objects.filter(user=therapist, session_key=new_key).exists()


def test_it_records_login_time_for_the_session_limits(client, therapist, settings):
    settings.MFA_REQUIRED = False
    password_step(client, "alice")
    assert client.session["staff_login_at"]
    assert client.session["staff_last_seen"]


def test_it_gives_another_new_session_key_when_the_second_factor_passes(
    client, therapist, authenticator
):
    password_step(client, "alice")
    half_key = client.cookies["sessionid"].value
    client.post(reverse("accounts:mfa"), {"code": current_code(authenticator)})
    full_key = client.cookies["sessionid"].value
    assert full_key != half_key
    assert not Session.objects.filter(session_key=half_key).exists()
    assert list(
        StaffSession.objects.filter(user=therapist).values_list("session_key", flat=True)
    ) == [full_key]
    assert client.session["_auth_user_id"] == str(therapist.pk)


def test_a_password_only_session_reaches_only_the_login_steps(
    client, therapist, authenticator, patient
):
    password_step(client, "alice")
    mfa = reverse("accounts:mfa")
    for blocked in (
        reverse("patients:detail", kwargs={"patient_id": patient.pk}),
        reverse("portal:link_manage", kwargs={"patient_id": patient.pk}),
        reverse("accounts:recovery_codes"),
        reverse("home"),
    ):
        response = client.get(blocked)
        assert (response.status_code, response["Location"]) == (302, mfa), blocked
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(mfa).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session
