"""Unsigned notes move with the course: each is handed to a named signer (the new therapist,
or the clinic admin making the change), recorded on the note with an audit event, and that
signer can write and sign it. None is left with a therapist who can no longer open it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caseload.services import course_reassign
from ipt_clinic.audit.models import AuditAction, AuditEvent
from sessions import services
from sessions.models import SessionNote, SessionStatus
from sessions.selectors import unsigned_notes_overdue
from tests.conftest import login
from tests.factories import SessionFactory


@pytest.fixture
def unsigned_note(make, therapist):
    """Alice's note of a session three days ago, saved with its risk check, not signed."""
    course = make(therapist)
    session = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=3),
        status=SessionStatus.ATTENDED,
    )
    note = services.note_start(session=session, by=therapist)
    return services.note_save(
        note=note,
        by=therapist,
        data={"narrative": "Talked about the new job.", "risk_level": "none"},
        expected_version=note.version,
    )


def test_it_lets_the_new_therapist_sign_a_note_left_unsigned(
    unsigned_note, therapist, other_therapist, clinic_admin
):
    session = unsigned_note.session
    course_reassign(
        course=session.course, to_therapist=other_therapist, by=clinic_admin, reason="Leave"
    )

    unsigned_note.refresh_from_db()
    assert unsigned_note.signer == other_therapist
    handed = AuditEvent.objects.get(
        action=AuditAction.UPDATE, object_id=unsigned_note.pk, actor=clinic_admin
    )
    assert handed.summary == "Note handed to Bob Quinn to write and sign"
    assert handed.changes == {"signer": [therapist.pk, other_therapist.pk]}
    assert [s.pk for s in unsigned_notes_overdue(other_therapist)] == [session.pk]
    assert unsigned_notes_overdue(therapist) == []

    bob = login(Client(), other_therapist)
    page = bob.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Sign and lock" in page
    assert "to be written and signed by Bob Quinn" in page
    assert bob.get(reverse("therapy:note", args=[session.pk])).status_code == 200
    response = bob.post(reverse("therapy:note_sign", args=[session.pk]))
    assert response.status_code == 302
    unsigned_note.refresh_from_db()
    assert unsigned_note.signed_by == other_therapist
    assert unsigned_note.signed_at is not None


def test_it_hands_the_notes_to_the_admin_who_asks_for_them(
    unsigned_note, therapist, other_therapist, clinic_admin, admin_client
):
    session = unsigned_note.session
    response = admin_client.post(
        reverse("caseload:reassign"),
        {
            "course": session.course_id,
            "to_therapist": other_therapist.pk,
            "reason": "Alice has left",
            "notes_signer": "me",
        },
    )
    assert response.status_code == 302

    unsigned_note.refresh_from_db()
    assert unsigned_note.signer == clinic_admin
    bob = login(Client(), other_therapist)
    assert bob.post(reverse("therapy:note_sign", args=[session.pk])).status_code == 404
    assert admin_client.post(reverse("therapy:note_sign", args=[session.pk])).status_code == 302
    unsigned_note.refresh_from_db()
    assert unsigned_note.signed_by == clinic_admin


def test_it_opens_a_note_for_a_session_that_has_none(
    make, therapist, other_therapist, clinic_admin
):
    course = make(therapist)
    unwritten = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=2),
        status=SessionStatus.ATTENDED,
    )
    no_show = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=9),
        status=SessionStatus.NO_SHOW,
    )

    course_reassign(course=course, to_therapist=other_therapist, by=clinic_admin, reason="x")

    note = SessionNote.objects.get(session=unwritten)
    assert note.signer == other_therapist and note.signed_at is None
    assert not SessionNote.objects.filter(session=no_show).exists()
    bob = login(Client(), other_therapist)
    assert bob.get(reverse("therapy:note", args=[unwritten.pk])).status_code == 200
