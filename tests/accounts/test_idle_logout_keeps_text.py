"""An idle logout still ends the session, but what was being typed is not lost: a note saved
after the limit answers with the text and the way back through the login, and the note's
autosave sends the page to the login with the note as the page to come back to."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT
from sessions import services
from sessions.models import SessionNote
from tests.conftest import login
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=2))
    return services.note_start(session=session, by=therapist)


@pytest.fixture
def idle_client(therapist):
    client = login(Client(), therapist)
    session = client.session
    now = timezone.now()
    session[SESSION_LOGIN_AT] = (now - timedelta(minutes=40)).isoformat()
    session[SESSION_LAST_SEEN] = (now - timedelta(minutes=20)).isoformat()
    session.save()
    return client


def test_it_answers_a_save_after_the_idle_limit_with_the_typed_text(idle_client, note):
    note_url = reverse("therapy:note", args=[note.session_id])
    response = idle_client.post(
        note_url,
        {"version": 1, "symptoms_reviewed": "Sleeping four hours a night.", "risk_level": "low"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "not saved" in page
    assert "Sleeping four hours a night." in page
    login_link = f"{reverse('accounts:login')}?expired=1&amp;next={note_url.replace('/', '%2F')}"
    assert login_link in page
    assert "no-cache" in response["Cache-Control"]
    # The idle limit still applied: logged out, nothing saved.
    assert idle_client.get(note_url).status_code == 302
    stored = SessionNote.objects.get(pk=note.pk)
    assert (stored.version, stored.symptoms_reviewed) == (1, "")


def test_it_sends_an_autosave_after_the_idle_limit_to_the_login_and_back(idle_client, note):
    note_url = reverse("therapy:note", args=[note.session_id])
    response = idle_client.post(
        reverse("therapy:note_autosave", args=[note.session_id]),
        {"version": 1, "symptoms_reviewed": "Typed after the pause"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{note_url}"},
    )
    assert response.status_code == 204
    target = urlsplit(response["HX-Redirect"])
    assert target.path == reverse("accounts:login")
    assert parse_qs(target.query) == {"expired": ["1"], "next": [note_url]}
    assert SessionNote.objects.get(pk=note.pk).version == 1


def test_it_never_sends_the_login_back_to_another_site(idle_client, note):
    response = idle_client.post(
        reverse("therapy:note_autosave", args=[note.session_id]),
        {"version": 1},
        headers={"HX-Request": "true", "HX-Current-URL": "https://elsewhere.example/phish/"},
    )
    target = urlsplit(response["HX-Redirect"])
    assert parse_qs(target.query)["next"] == [reverse("home")]
