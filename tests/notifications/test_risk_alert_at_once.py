"""A risk alert does not wait for the dispatcher's next run: the moment the transaction that
raised the flag commits, its rows are claimed and their sends published ahead of the queue."""

import pytest

from notifications.models import Notification
from sessions.measures import measure_record

pytestmark = pytest.mark.django_db


def test_it_publishes_the_alerts_when_the_flag_commits(
    course, therapist, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        measure_record(
            course=course, instrument="phq9", answers=[0] * 8 + [3], entered_by=therapist
        )
        assert enqueued == []  # nothing leaves before the commit
    alerts = list(Notification.objects.filter(kind="risk_alert"))
    assert alerts and {row.status for row in alerts} == {"sending"}
    assert sorted(enqueued) == sorted(row.pk for row in alerts)


def test_it_leaves_other_notices_to_the_dispatcher(
    course, therapist, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        measure_record(
            course=course,
            instrument="phq9",
            answers=[1] * 8 + [0],
            entered_by=therapist,
        )
    assert enqueued == []
    assert not Notification.objects.exists()
