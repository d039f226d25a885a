"""The beat's dispatcher claims due rows and enqueues one send per row after commit; the
sweeper re-enqueues rows whose lease ran out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Heartbeat, Notification
from notifications.sending import notifications_dispatch_due, notifications_sweep_stuck

pytestmark = pytest.mark.django_db


def test_it_claims_due_rows_and_enqueues_them_after_commit(
    due_reminder, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notifications_dispatch_due() == 1
        assert enqueued == []  # nothing reaches the broker before the claim commits
    for callback in callbacks:
        callback()
    assert enqueued == [due_reminder.pk]
    due_reminder.refresh_from_db()
    assert due_reminder.status == "sending"
    assert due_reminder.lease_until > timezone.now()
    assert due_reminder.attempts == 0


def test_it_leaves_rows_that_are_not_due(session, enqueued, django_capture_on_commit_callbacks):
    from sessions import notices

    row = notices.on_session_booked(session)  # due in six hours
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 0
    row.refresh_from_db()
    assert row.status == "pending"
    assert enqueued == []


def test_it_waits_for_the_next_attempt_time(due_reminder, enqueued):
    Notification.objects.filter(pk=due_reminder.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=3)
    )
    assert notifications_dispatch_due() == 0


def test_it_claims_a_row_only_once(due_reminder, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notifications_dispatch_due()
        notifications_dispatch_due()
    assert enqueued == [due_reminder.pk]


def test_it_claims_in_batches(course, enqueued, django_capture_on_commit_callbacks):
    from sessions import notices
    from tests.factories import SessionFactory

    for hours in range(1, 8):
        notices.on_session_booked(
            SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=hours))
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due(batch_size=3) == 7
    assert len(enqueued) == 7 == len(set(enqueued))


def test_it_records_the_beat_run(due_reminder, enqueued):
    notifications_dispatch_due()
    beat = Heartbeat.objects.get(name="dispatch")
    assert beat.last_run_at > timezone.now() - timedelta(seconds=5)
    assert beat.detail == {"claimed": 1}


def test_it_requeues_a_row_whose_lease_ran_out(
    due_reminder, enqueued, django_capture_on_commit_callbacks
):
    Notification.objects.filter(pk=due_reminder.pk).update(
        status="sending",
        attempts=1,
        attempt_started_at=timezone.now() - timedelta(minutes=10),
        lease_until=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_sweep_stuck() == 1
    due_reminder.refresh_from_db()
    assert enqueued == [due_reminder.pk]
    assert due_reminder.status == "sending"
    assert due_reminder.attempt_started_at is None
    assert due_reminder.lease_until > timezone.now()


def test_it_leaves_a_row_whose_lease_still_runs(due_reminder, enqueued):
    Notification.objects.filter(pk=due_reminder.pk).update(
        status="sending", attempts=1, lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert notifications_sweep_stuck() == 0
    assert enqueued == []


def test_it_fails_a_stuck_row_that_used_up_its_attempts(due_reminder, enqueued, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    Notification.objects.filter(pk=due_reminder.pk).update(
        status="sending", attempts=3, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert notifications_sweep_stuck() == 0
    due_reminder.refresh_from_db()
    assert due_reminder.status == "failed"
    assert "lease" in due_reminder.last_error


def test_it_refreshes_planner_statistics_after_a_big_claim(due_reminder, enqueued, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications import sending as notifications

    monkeypatch.setattr(notifications, "REANALYZE_AFTER", 1)
    with CaptureQueriesContext(connection) as queries:
        assert notifications_dispatch_due() == 1
    analyzed = [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")]
    assert analyzed == ['ANALYZE "notifications_notification"']
