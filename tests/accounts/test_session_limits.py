from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT
from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAGE = "accounts:recovery_codes"  # any page that needs a full staff login


def _age(client: Client, *, login_ago: timedelta, seen_ago: timedelta) -> None:
    session = client.session
    now = timezone.now()
    session[SESSION_LOGIN_AT] = (now - login_ago).isoformat()
    session[SESSION_LAST_SEEN] = (now - seen_ago).isoformat()
    session.save()


def _is_login_page(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


def test_it_keeps_an_active_session(therapist):
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(hours=2), seen_ago=timedelta(minutes=14))
    assert client.get(reverse(PAGE)).status_code == 200


def test_it_logs_out_after_15_idle_minutes(therapist):
    client = login(Client(), therapist)
    key = client.session.session_key
    _age(client, login_ago=timedelta(minutes=30), seen_ago=timedelta(minutes=16))
    response = client.get(reverse(PAGE))
    assert _is_login_page(response)
    assert "expired=1" in response["Location"]
    assert not Session.objects.filter(session_key=key).exists()
    event = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert "idle" in event.summary


def test_it_logs_out_12_hours_after_login_even_when_active(therapist):
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(hours=12, minutes=1), seen_ago=timedelta(minutes=1))
    assert _is_login_page(client.get(reverse(PAGE)))
    assert "absolute" in AuditEvent.objects.get(action=AuditAction.LOGOUT).summary


def test_it_reads_the_limits_from_settings(therapist, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=5)
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(minutes=6), seen_ago=timedelta(minutes=6))
    assert _is_login_page(client.get(reverse(PAGE)))


def test_each_request_restarts_the_idle_clock(therapist):
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(minutes=20), seen_ago=timedelta(minutes=10))
    client.get(reverse(PAGE))
    seen = timezone.datetime.fromisoformat(client.session[SESSION_LAST_SEEN])
    assert timezone.now() - seen < timedelta(minutes=1)


def test_it_tells_htmx_to_load_the_login_page(therapist):
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(minutes=30), seen_ago=timedelta(minutes=20))
    response = client.get(reverse(PAGE), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_it_ends_a_session_with_a_garbled_login_time(therapist):
    client = login(Client(), therapist)
    session = client.session
    session[SESSION_LOGIN_AT] = "not a time"
    session.save()
    assert _is_login_page(client.get(reverse(PAGE)))
