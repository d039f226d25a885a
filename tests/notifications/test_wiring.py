"""The clinical services put their notices in the outbox in their own transaction."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from sessions.services import assignment_set, session_book, session_cancel, session_reschedule

pytestmark = pytest.mark.django_db


def _reminders(session):
    return list(
        Notification.objects.filter(about_type="session", about_id=session.pk).order_by("id")
    )


def test_it_books_moves_and_cancels_a_sessions_reminder(course, therapist):
    start = timezone.now() + timedelta(days=3)
    session = session_book(
        course=course, start=start, duration_minutes=50, modality="in_person", by=therapist
    )
    [booked] = _reminders(session)
    assert (booked.status, booked.due_at) == ("pending", start - timedelta(hours=24))

    session_reschedule(
        session=session,
        start=start + timedelta(days=1),
        duration_minutes=50,
        modality="video",
        by=therapist,
        expected_version=session.version,
    )
    old, moved = _reminders(session)
    assert old.status == "cancelled"
    assert (moved.status, moved.due_at) == ("pending", start)

    session.refresh_from_db()
    session_cancel(session=session, by=therapist, by_whom="patient", reason="Unwell")
    assert {row.status for row in _reminders(session)} == {"cancelled"}


def test_it_queues_both_homework_notices(course, therapist):
    session = session_book(
        course=course,
        start=timezone.now() + timedelta(hours=2),
        duration_minutes=50,
        modality="in_person",
        by=therapist,
    )
    assignment = assignment_set(
        session=session,
        by=therapist,
        title="Call Sam",
        instructions="Ask about Sunday.",
        kind="communication",
        relationship=None,
        problem_area=None,
        due_date=timezone.localdate() + timedelta(days=7),
    )
    kinds = set(
        Notification.objects.filter(about_type="assignment", about_id=assignment.pk).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"homework_new", "homework_due"}


def test_it_queues_a_portal_link_with_its_address(patient, therapist):
    from portal.services import portal_link_issue

    link, url, queued = portal_link_issue(patient=patient, by=therapist, send=True)
    assert queued
    row = Notification.objects.get(about_type="portal_link", about_id=link.pk)
    assert row.payload == {"url": url}
