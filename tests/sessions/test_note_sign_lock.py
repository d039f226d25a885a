from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from sessions import services
from sessions.models import NoteAddendum, SessionNote
from tests.conftest import login
from tests.factories import SessionFactory
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=2), status="attended"
    )
    note = services.note_start(session=session, by=therapist)
    return services.note_save(
        note=note,
        by=therapist,
        data={"symptoms_reviewed": "Low mood since the move.", "risk_level": "none"},
        expected_version=note.version,
    )


def test_it_signs_the_note_and_audits_it(therapist_client, note, therapist):
    response = therapist_client.post(reverse("therapy:note_sign", args=[note.session_id]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.signed_by == therapist and note.signed_at is not None
    assert AuditEvent.objects.filter(action="sign", object_id=note.pk).exists()


def test_it_refuses_to_change_a_signed_note(note, therapist):
    services.note_sign(note=note, by=therapist)
    with pytest.raises(services.NoteLockedError):
        services.note_save(
            note=note,
            by=therapist,
            data={"symptoms_reviewed": "Rewritten"},
            expected_version=note.version,
        )
    note.refresh_from_db()
    assert note.symptoms_reviewed == "Low mood since the move."


def test_it_refuses_an_edit_posted_to_a_signed_note(therapist_client, note, therapist):
    services.note_sign(note=note, by=therapist)
    response = therapist_client.post(
        reverse("therapy:note", args=[note.session_id]),
        {"version": note.version, "symptoms_reviewed": "Rewritten", "risk_level": "low"},
        follow=True,
    )
    assert "signed and locked" in response.content.decode()
    note.refresh_from_db()
    assert (note.symptoms_reviewed, note.risk_level) == ("Low mood since the move.", "none")


def test_it_offers_no_edit_form_for_a_signed_note(therapist_client, note, therapist):
    services.note_sign(note=note, by=therapist)
    page = therapist_client.get(reverse("therapy:session", args=[note.session_id])).content
    assert b"Edit the note" not in page
    assert b"Sign and lock" not in page
    assert b"Add addendum" in page


def test_it_refuses_to_sign_without_the_risk_check(course, therapist):
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=2), status="attended"
    )
    note = services.note_start(session=session, by=therapist)
    with pytest.raises(ValidationError, match="risk check"):
        services.note_sign(note=note, by=therapist)
    assert SessionNote.objects.get(pk=note.pk).signed_at is None


def test_it_refuses_to_sign_twice(note, therapist):
    services.note_sign(note=note, by=therapist)
    with pytest.raises(ValidationError, match="already signed"):
        services.note_sign(note=note, by=therapist)


def test_it_lets_only_the_sessions_therapist_sign(note, clinic_admin):
    with pytest.raises(ValidationError, match="Only the therapist"):
        services.note_sign(note=note, by=clinic_admin)


def test_it_adds_dated_addenda_by_their_author(client, note, therapist, clinic_admin):
    services.note_sign(note=note, by=therapist)
    admin_client = login(client, clinic_admin)
    response = admin_client.post(
        reverse("therapy:note_addendum", args=[note.session_id]),
        {
            "text": "GP letter received after the session.",
            "form_key": fresh_key(services.ADDENDUM_FORM, note),
        },
    )
    assert response.status_code == 302
    addendum = NoteAddendum.objects.get()
    assert addendum.author == clinic_admin and addendum.created_at is not None
    page = admin_client.get(reverse("therapy:session", args=[note.session_id])).content.decode()
    assert "GP letter received after the session." in page
    assert clinic_admin.display_name in page
    note.refresh_from_db()
    assert note.symptoms_reviewed == "Low mood since the move."


def test_it_refuses_an_addendum_to_an_unsigned_note(note, therapist):
    with pytest.raises(ValidationError, match="not signed yet"):
        services.note_add_addendum(note=note, by=therapist, text="More")
    assert not NoteAddendum.objects.exists()


def test_it_lists_unsigned_notes_older_than_48_hours(course, therapist):
    old = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=50))
    recent = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=30))
    signed = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=60), status="attended"
    )
    signed_note = services.note_start(session=signed, by=therapist)
    signed_note = services.note_save(
        note=signed_note, by=therapist, data={"risk_level": "none"}, expected_version=1
    )
    services.note_sign(note=signed_note, by=therapist)
    services.note_start(session=old, by=therapist)
    from sessions.selectors import unsigned_notes_overdue

    overdue = unsigned_notes_overdue(therapist)
    assert [s.pk for s in overdue] == [old.pk]
    assert recent.pk not in [s.pk for s in overdue]


def test_it_renders_the_home_partial_for_overdue_notes(course, therapist):
    from django.template.loader import render_to_string

    from sessions.selectors import unsigned_notes_overdue

    SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=72))
    html = render_to_string(
        "caseload/_home_extra_notes.html", {"overdue_notes": unsigned_notes_overdue(therapist)}
    )
    assert course.patient.full_name in html
    assert "no note yet" in html
