"""A refused autosave answers with a status the page's script acts on: 409 when trying again
cannot help (the note was signed, or saved by someone else), so it stops and says so."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=2), status="attended"
    )
    return services.note_start(session=session, by=therapist)


def _autosave(client, note, **fields):
    return client.post(
        reverse("therapy:note_autosave", args=[note.session_id]),
        {"version": 1, **fields},
        headers={"HX-Request": "true"},
    )


def test_it_answers_409_when_the_note_was_saved_elsewhere(therapist_client, note, therapist):
    services.note_save(
        note=note, by=therapist, data={"contract": "12 weekly"}, expected_version=1, draft=True
    )
    response = _autosave(therapist_client, note, contract="16 weekly")
    assert response.status_code == 409
    assert "changed since you opened it" in response.content.decode()


def test_it_answers_409_when_the_note_was_signed(therapist_client, note, therapist):
    note = services.note_save(
        note=note, by=therapist, data={"risk_level": "none"}, expected_version=1
    )
    services.note_sign(note=note, by=therapist)
    response = _autosave(therapist_client, note, contract="16 weekly")
    assert response.status_code == 409
    assert "keep your text as an addendum" in response.content.decode()
