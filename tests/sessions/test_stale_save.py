from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import NoteRevision
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    return services.note_start(session=session, by=therapist)


def test_it_refuses_a_stale_save_and_keeps_the_stored_text(note, therapist):
    first = services.note_save(
        note=note,
        by=therapist,
        data={"symptoms_reviewed": "Theirs", "risk_level": "none"},
        expected_version=1,
    )
    assert first.version == 2
    with pytest.raises(services.StaleNoteError) as refused:
        services.note_save(
            note=note,
            by=therapist,
            data={"symptoms_reviewed": "Mine", "risk_level": "none"},
            expected_version=1,
        )
    assert refused.value.current.symptoms_reviewed == "Theirs"
    note.refresh_from_db()
    assert (note.version, note.symptoms_reviewed) == (2, "Theirs")
    assert list(NoteRevision.objects.values_list("version", flat=True)) == [1, 2]


def test_it_shows_both_versions_when_a_save_is_stale(therapist_client, note, therapist):
    services.note_save(
        note=note,
        by=therapist,
        data={"symptoms_reviewed": "Sleep better this week", "risk_level": "none"},
        expected_version=1,
    )
    response = therapist_client.post(
        reverse("therapy:note", args=[note.session_id]),
        {"version": 1, "symptoms_reviewed": "Still not sleeping", "risk_level": "low"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "changed since you opened it" in page
    assert "Sleep better this week" in page  # theirs, from the database
    assert "Still not sleeping" in page  # yours, from the form
    assert 'name="version" value="2"' in page
    note.refresh_from_db()
    assert (note.version, note.symptoms_reviewed, note.risk_level) == (
        2,
        "Sleep better this week",
        "none",
    )


def test_it_writes_a_revision_for_every_save_and_shows_the_history(therapist_client, note):
    for version, text in ((1, "First draft"), (2, "Second draft")):
        response = therapist_client.post(
            reverse("therapy:note", args=[note.session_id]),
            {"version": version, "symptoms_reviewed": text, "risk_level": "none"},
        )
        assert response.status_code == 302
    assert list(NoteRevision.objects.values_list("version", flat=True)) == [1, 2, 3]
    page = therapist_client.get(reverse("therapy:note_history", args=[note.session_id])).content
    assert b"First draft" in page and b"Second draft" in page


def test_it_refuses_a_save_without_the_risk_check(therapist_client, note):
    response = therapist_client.post(
        reverse("therapy:note", args=[note.session_id]),
        {"version": 1, "symptoms_reviewed": "Something"},
    )
    assert response.status_code == 200
    assert "risk check" in response.content.decode()
    note.refresh_from_db()
    assert (note.version, note.symptoms_reviewed) == (1, "")


def test_it_autosaves_a_draft_and_returns_the_new_version(therapist_client, note):
    response = therapist_client.post(
        reverse("therapy:note_autosave", args=[note.session_id]),
        {"version": 1, "symptoms_reviewed": "Typed so far"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "Draft saved" in page
    assert 'value="2"' in page
    note.refresh_from_db()
    assert (note.version, note.symptoms_reviewed) == (2, "Typed so far")


def test_it_refuses_a_stale_autosave(therapist_client, note, therapist):
    services.note_save(
        note=note, by=therapist, data={"contract": "12 weekly"}, expected_version=1, draft=True
    )
    response = therapist_client.post(
        reverse("therapy:note_autosave", args=[note.session_id]),
        {"version": 1, "contract": "16 weekly"},
    )
    assert "changed since you opened it" in response.content.decode()
    note.refresh_from_db()
    assert note.contract == "12 weekly"


def test_it_shows_goal_and_homework_reviews_in_words_in_the_history(
    therapist_client, course, therapist
):
    from phases.models import Phase
    from tests.factories import AssignmentFactory, GoalFactory, ProblemAreaFactory

    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course), text="See friends weekly")
    earlier = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(days=7))
    homework = AssignmentFactory(course=course, session=earlier, title="Call Dan")
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = services.note_start(session=session, by=therapist)
    services.note_save(
        note=note,
        by=therapist,
        data={"techniques": ["role_play"], "risk_level": "none"},
        expected_version=1,
        goal_reviews=[services.GoalReviewInput(goal_id=goal.pk, progress=4, status="open")],
        homework_reviews={homework.pk: "done"},
    )
    page = therapist_client.get(reverse("therapy:note_history", args=[session.pk])).content.decode()
    assert "See friends weekly: 4/10, Working on it" in page
    assert "Call Dan: Done" in page
    assert "Role play" in page
