"""A course's baseline and latest PHQ-9 / GAD-7 follow the order scores were taken in,
whatever order they are recorded in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions.measures import measure_record

pytestmark = pytest.mark.django_db

PHQ9_LOW = [1, 1, 1, 0, 0, 0, 0, 0, 0]  # 3
PHQ9_HIGH = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # 16
GAD7 = [1, 1, 1, 1, 1, 1, 1]  # 7


def test_baseline_and_latest_follow_the_time_taken(course, therapist):
    now = timezone.now()
    record = {"course": course, "entered_by": therapist}
    measure_record(instrument="phq9", answers=PHQ9_HIGH, taken_at=now - timedelta(days=1), **record)
    course.refresh_from_db()
    assert (course.baseline_phq9, course.latest_phq9) == (16, 16)
    assert (course.baseline_gad7, course.latest_gad7) == (None, None)
    # Entered later but taken earlier: the new baseline, not the latest.
    measure_record(instrument="phq9", answers=PHQ9_LOW, taken_at=now - timedelta(days=9), **record)
    measure_record(instrument="gad7", answers=GAD7, taken_at=now, **record)
    course.refresh_from_db()
    assert (course.baseline_phq9, course.latest_phq9) == (3, 16)
    assert course.latest_phq9_at == now - timedelta(days=1)
    assert (course.baseline_gad7, course.latest_gad7) == (7, 7)


def test_the_same_moment_is_ordered_by_record(course, therapist):
    now = timezone.now()
    record = {"course": course, "entered_by": therapist, "taken_at": now}
    measure_record(instrument="phq9", answers=PHQ9_LOW, **record)
    measure_record(instrument="phq9", answers=PHQ9_HIGH, **record)
    course.refresh_from_db()
    assert (course.baseline_phq9, course.latest_phq9, course.latest_phq9_at) == (3, 16, now)
