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


# Last-seen is saved at most once per SESSION_LAST_SEEN_INTERVAL (the test settings save it on
# every request; these tests put the production interval back).


def _seen(client: Client):
    return timezone.datetime.fromisoformat(client.session[SESSION_LAST_SEEN])


def _session_writes(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(PAGE)).status_code == 200
    return sum(
        1 for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"')
    )


def test_a_request_soon_after_the_last_write_saves_nothing(therapist, settings):
    settings.SESSION_LAST_SEEN_INTERVAL = timedelta(seconds=60)
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(minutes=5), seen_ago=timedelta(seconds=30))
    before = _seen(client)
    assert _session_writes(client) == 0
    assert _seen(client) == before


def test_a_request_an_interval_after_the_last_write_saves_the_time(therapist, settings):
    settings.SESSION_LAST_SEEN_INTERVAL = timedelta(seconds=60)
    client = login(Client(), therapist)
    _age(client, login_ago=timedelta(minutes=5), seen_ago=timedelta(seconds=61))
    assert _session_writes(client) == 1
    assert timezone.now() - _seen(client) < timedelta(seconds=5)


def test_the_idle_limit_still_holds_with_the_interval(therapist, settings, monkeypatch):
    """On a clock that moves: activity every 50 seconds keeps the session alive; after the
    last request the logout comes at most one interval before the idle limit, never after."""
    settings.SESSION_LAST_SEEN_INTERVAL = timedelta(seconds=60)
    client = login(Client(), therapist)
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    for seconds in range(0, 20 * 60, 50):
        clock["now"] = start + timedelta(seconds=seconds)
        assert client.get(reverse(PAGE)).status_code == 200
    last_request = clock["now"]
    assert last_request - _seen(client) < timedelta(seconds=60)
    clock["now"] = last_request + timedelta(minutes=14)
    assert client.get(reverse(PAGE)).status_code == 200
    # That request restarted the clock (or lagged it by under a minute): quiet for 15
    # minutes and one second after it ends the session.
    clock["now"] += timedelta(minutes=15, seconds=1)
    assert _is_login_page(client.get(reverse(PAGE)))
    assert "idle" in AuditEvent.objects.get(action=AuditAction.LOGOUT).summary


def test_the_interval_is_a_fifteenth_of_a_short_idle_limit():
    from ipt_clinic.settings import base

    expected = min(timedelta(seconds=60), base.SESSION_IDLE_TIMEOUT / 15)
    assert expected == base.SESSION_LAST_SEEN_INTERVAL
    assert base.SESSION_IDLE_TIMEOUT > base.SESSION_LAST_SEEN_INTERVAL
