from datetime import timedelta

import pytest
from django.utils import timezone

from sessions import outbox
from sessions.models import Notification
from tests.factories import SessionFactory


@pytest.fixture
def enqueued(monkeypatch):
    """The primary keys handed to the broker, in order (nothing is published)."""
    from sessions.tasks import send_notification

    sent: list[int] = []
    monkeypatch.setattr(
        send_notification, "apply_async", lambda args, **kwargs: sent.append(args[0])
    )
    return sent


@pytest.fixture
def session(course):
    return SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=30))


@pytest.fixture
def due_reminder(session) -> Notification:
    """A session reminder that is due now."""
    row = outbox.on_session_booked(session)
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    row.refresh_from_db()
    return row


def claimed(row: Notification) -> Notification:
    """The row as the dispatcher leaves it: sending, with a lease, not yet taken by a sender."""
    Notification.objects.filter(pk=row.pk).update(
        status="sending", lease_until=timezone.now() + timedelta(minutes=5)
    )
    row.refresh_from_db()
    return row
