"""A worker dies holding rows: one only dispatched to it (in its prefetch), one it had begun
to send. The sweeper, run on the beat's schedule, sends both again within a minute. The
clock is driven by the test (no real minute passes)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from notifications.models import Notification
from notifications.sending import (
    _claim_for_sending,
    notification_send,
    notifications_dispatch_due,
    notifications_sweep_stuck,
)
from sessions import notices
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

CRASH = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


def test_it_sends_a_dead_workers_rows_again_within_a_minute(
    course, enqueued, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(CRASH, tick=False)
    held, half_sent = (
        notices.on_session_booked(
            SessionFactory(course=course, scheduled_start=CRASH + timedelta(hours=hours))
        )
        for hours in (2, 3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 2  # both handed to the worker...
    assert _claim_for_sending(half_sent.pk, CRASH) is not None  # ...which began one, and died
    enqueued.clear()

    interval = timedelta(
        seconds=settings.CELERY_BEAT_SCHEDULE["sweep-stuck-notifications"]["schedule"]
    )
    beat = CRASH
    while set(enqueued) != {held.pk, half_sent.pk} and beat - CRASH < timedelta(minutes=15):
        beat += interval
        time_machine.move_to(beat, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            notifications_sweep_stuck()

    assert sorted(enqueued) == sorted([held.pk, half_sent.pk])
    assert beat - CRASH < timedelta(minutes=1)
    assert [notification_send(pk) for pk in (held.pk, half_sent.pk)] == ["sent", "sent"]
    assert list(Notification.objects.values_list("attempts", flat=True).order_by("pk")) == [1, 2]
