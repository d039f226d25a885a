"""An addendum sent twice is added once; the same form sent again with other words is
refused, and the words come back on a fresh form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase
from sessions import services
from sessions.models import NoteAddendum, SessionNote
from tests.factories import SessionFactory
from tests.form_keys import key_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_note(course, therapist):
    session = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(hours=2),
        status="attended",
        phase=Phase.INITIAL,
    )
    note = SessionNote.objects.create(
        clinic=course.clinic, session=session, phase=Phase.INITIAL, risk_level="none"
    )
    return services.note_sign(note=note, by=therapist)


def test_it_adds_an_addendum_sent_twice_once(therapist_client, signed_note):
    page = reverse("therapy:session", args=[signed_note.session_id])
    url = reverse("therapy:note_addendum", args=[signed_note.session_id])
    data = {"text": "GP letter received.", "form_key": key_on(therapist_client.get(page))}
    assert therapist_client.post(url, data).status_code == 302
    second = therapist_client.post(url, data, follow=True)
    assert second.redirect_chain == [(page, 302)]
    assert "Already saved" in second.content.decode()
    assert NoteAddendum.objects.filter(note=signed_note).count() == 1


def test_it_refuses_the_same_form_sent_with_other_words(therapist_client, signed_note):
    page = reverse("therapy:session", args=[signed_note.session_id])
    url = reverse("therapy:note_addendum", args=[signed_note.session_id])
    key = key_on(therapist_client.get(page))
    therapist_client.post(url, {"text": "GP letter received.", "form_key": key})
    refused = therapist_client.post(url, {"text": "Phoned the patient's sister.", "form_key": key})
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "already sent and saved as the addendum “GP letter received.”" in body
    assert "Phoned the patient&#x27;s sister." in body
    assert NoteAddendum.objects.filter(note=signed_note).count() == 1
    again = {"text": "Phoned the patient's sister.", "form_key": key_on(refused)}
    assert therapist_client.post(url, again).status_code == 302
    assert NoteAddendum.objects.filter(note=signed_note).count() == 2
