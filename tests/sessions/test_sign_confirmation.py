"""Signing a note asks first, on a page of its own, saying what can no longer change."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import SessionNote
from tests.factories import AssignmentFactory, GoalFactory, ProblemAreaFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(course, therapist):
    course.phase = "problem_solving"
    course.save()
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Call Dana weekly")
    homework = AssignmentFactory(
        course=course,
        title="Ask for help once",
        session=SessionFactory(
            course=course, scheduled_start=timezone.now() - timedelta(days=7), status="attended"
        ),
    )
    note = services.note_start(session=session, by=therapist)
    services.note_save(
        note=note,
        by=therapist,
        data={"narrative": "Talked about the move.", "risk_level": "none"},
        expected_version=note.version,
        goal_reviews=[services.GoalReviewInput(goal_id=goal.pk, progress=6, status="open")],
        homework_reviews={homework.pk: "done"},
    )
    return session


def test_it_asks_before_signing_and_names_what_is_locked(therapist_client, held):
    session_page = therapist_client.get(reverse("therapy:session", args=[held.pk]))
    confirm_url = reverse("therapy:note_sign", args=[held.pk])
    # The session page links to the question; it does not sign in one click.
    assert f'href="{confirm_url}"' in session_page.content.decode()
    assert f'action="{confirm_url}"' not in session_page.content.decode()

    page = therapist_client.get(confirm_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign and lock the note?" in html
    assert "none of this can change" in html
    assert "the attendance: attended" in html
    assert "“Call Dana weekly” 6/10" in html
    assert "“Ask for help once” done" in html
    assert "Talked about the move." in html
    assert f'action="{confirm_url}"' in html
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert SessionNote.objects.get(session=held).signed_at is None

    therapist_client.post(confirm_url)
    assert SessionNote.objects.get(session=held).signed_at is not None


def test_it_says_why_a_note_cannot_be_signed_yet(therapist_client, course, therapist):
    ahead = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=2))
    services.note_start(session=ahead, by=therapist)
    confirm_url = reverse("therapy:note_sign", args=[ahead.pk])
    html = therapist_client.get(confirm_url).content.decode()
    assert "cannot be signed yet" in html
    assert "has not started yet" in html
    assert "Record the risk check" in html
    assert f'action="{confirm_url}"' not in html
