"""A note is signed only for a session that happened: its start has passed and its attendance
is recorded as attended."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import SessionNote
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def _ready_note(session, therapist) -> SessionNote:
    note = services.note_start(session=session, by=therapist)
    return services.note_save(
        note=note,
        by=therapist,
        data={"symptoms_reviewed": "Sleeping better.", "risk_level": "none"},
        expected_version=note.version,
    )


def test_it_refuses_to_sign_the_note_of_a_session_still_ahead(course, therapist):
    ahead = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=7))
    note = _ready_note(ahead, therapist)
    with pytest.raises(ValidationError, match="has not started yet"):
        services.note_sign(note=note, by=therapist)
    assert SessionNote.objects.get(pk=note.pk).signed_at is None


def test_it_refuses_to_sign_before_the_attendance_is_recorded(course, therapist):
    past = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = _ready_note(past, therapist)
    with pytest.raises(ValidationError, match="Record the attendance as attended"):
        services.note_sign(note=note, by=therapist)
    assert SessionNote.objects.get(pk=note.pk).signed_at is None
    # Once the attendance is recorded, the same note is signed.
    services.session_record_attendance(session=past, by=therapist, status="attended")
    services.note_sign(note=note, by=therapist)
    assert SessionNote.objects.get(pk=note.pk).signed_at is not None


def test_it_refuses_to_sign_the_note_of_a_no_show(course, therapist):
    missed = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = _ready_note(missed, therapist)
    services.session_record_attendance(session=missed, by=therapist, status="no_show")
    with pytest.raises(ValidationError, match="did not attend"):
        services.note_sign(note=note, by=therapist)
    assert SessionNote.objects.get(pk=note.pk).signed_at is None


def test_it_refuses_the_signing_post_for_a_session_ahead(therapist_client, course, therapist):
    ahead = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=7))
    note = _ready_note(ahead, therapist)
    response = therapist_client.post(reverse("therapy:note_sign", args=[ahead.pk]), follow=True)
    assert "has not started yet" in response.content.decode()
    assert SessionNote.objects.get(pk=note.pk).signed_at is None
