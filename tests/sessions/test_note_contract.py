"""One record of the contract: the sick role and the contract typed on an initial-phase note
are the course's own fields, written to the course with the note (its version checked), shown
again by the course form, and recorded on the note as they stood."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase
from phases.services import course_update
from sessions import services
from sessions.models import SessionNote
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(
        course=course, status="attended", scheduled_start=timezone.now() - timedelta(hours=2)
    )
    return services.note_start(session=session, by=therapist)


def _post(note, *, course_version, **contract) -> dict:
    values = {
        "planned_sessions": "12",
        "frequency": "weekly",
        "session_minutes": "50",
        "contract_agreed_on": "2026-03-02",
        "sick_role_note": "Depression explained as an illness; she will let her sister cook.",
        **contract,
    }
    return {
        "version": str(note.version),
        "symptoms_reviewed": "Low mood, poor sleep for three months.",
        "risk_level": "none",
        "course-version": str(course_version),
        **{f"course-{name}": value for name, value in values.items()},
    }


def test_it_shows_the_courses_contract_on_the_initial_note(
    therapist_client, course, note, therapist
):
    course.sick_role_note = "Allowed to do less at work for now."
    course.planned_sessions = 14
    course.save()
    page = therapist_client.get(reverse("therapy:note", args=[note.session_id])).content.decode()
    assert 'name="course-planned_sessions"' in page
    assert 'value="14"' in page
    assert "Allowed to do less at work for now." in page
    for name in ("frequency", "session_minutes", "contract_agreed_on", "version"):
        assert f'name="course-{name}"' in page
    # Typed once: the note has no free-text box of its own for them.
    assert 'name="sick_role"' not in page
    assert 'name="contract"' not in page
    # A later phase's note does not ask for them.
    course.phase = Phase.SOCIAL
    course.save()
    session = SessionFactory(
        course=course, status="attended", scheduled_start=timezone.now() - timedelta(hours=1)
    )
    services.note_start(session=session, by=therapist)
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    assert 'name="course-planned_sessions"' not in page


def test_it_writes_the_contract_typed_on_the_note_to_the_course(
    therapist_client, course, note, therapist
):
    # A draft autosave keeps the note's text and leaves the course alone.
    autosave = reverse("therapy:note_autosave", args=[note.session_id])
    response = therapist_client.post(autosave, _post(note, course_version=course.version))
    assert response.status_code == 200
    course.refresh_from_db()
    assert (course.planned_sessions, course.contract_agreed_on) == (16, None)
    note.refresh_from_db()
    # Saved: the course holds the contract.
    url = reverse("therapy:note", args=[note.session_id])
    response = therapist_client.post(url, _post(note, course_version=course.version))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.planned_sessions == 12
    assert course.frequency == "weekly"
    assert course.session_minutes == 50
    assert course.contract_agreed_on == date(2026, 3, 2)
    assert course.sick_role_note.startswith("Depression explained as an illness")
    note.refresh_from_db()
    assert note.symptoms_reviewed == "Low mood, poor sleep for three months."
    assert note.sick_role == course.sick_role_note
    assert note.contract == "12 sessions, weekly, 50 minutes each; agreed on 2 Mar 2026"
    # The course form shows what the note wrote: nothing to type again.
    form = therapist_client.get(reverse("phases:course_edit", args=[course.pk])).content.decode()
    assert "Depression explained as an illness" in form
    assert 'value="2026-03-02"' in form


def test_it_refuses_a_contract_changed_on_the_course_meanwhile(
    therapist_client, course, note, clinic_admin
):
    opened_at = course.version
    course_update(course=course, by=clinic_admin, expected_version=opened_at, planned_sessions=20)
    url = reverse("therapy:note", args=[note.session_id])
    response = therapist_client.post(
        url, _post(note, course_version=opened_at, planned_sessions="10")
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Changed by someone else since you opened it" in page
    course.refresh_from_db()
    assert course.planned_sessions == 20
    assert course.contract_agreed_on is None
    stored = SessionNote.objects.get(pk=note.pk)
    assert (stored.version, stored.symptoms_reviewed) == (note.version, "")
