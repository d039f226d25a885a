"""When a PHQ-9 is due before the next session (sessions.measure_schedule): the clinic
dashboard's "PHQ-9 overdue" rule, read at the next session's start, at its edges."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from caseload.dashboard_selectors import Window, metric_condition
from phases.models import CourseStatus, CourseType, TreatmentCourse
from sessions.measure_schedule import phq9_due_before_next_session
from sessions.measures import measure_record
from sessions.models import EnteredBy
from tests.factories import CourseFactory, SessionFactory

# Wednesday 9 December 2026, 10:00 in London (GMT: clinic time is UTC).
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _course(patient, *, started: date, latest_phq9_at=None, attended=(), **extra):
    # A patient of their own each (one active course per patient), with the same therapist.
    course = CourseFactory(patient__primary_therapist=patient.primary_therapist, start_date=started)
    last = sorted(attended)[-2:]
    TreatmentCourse.objects.filter(pk=course.pk).update(
        latest_phq9_at=latest_phq9_at,
        sessions_attended=len(attended),
        last_attended_at=last[-1] if last else None,
        previous_attended_at=last[0] if len(last) == 2 else None,
        **extra,
    )
    course.refresh_from_db()
    return course


def _due(course) -> bool:
    return phq9_due_before_next_session(course, tz=course.clinic.tz)


def _book(course, start: datetime):
    return SessionFactory(course=course, scheduled_start=start)


def test_it_is_due_once_the_last_phq9_is_more_than_14_days_old(patient):
    course = _course(patient, started=date(2026, 11, 1), latest_phq9_at=NOW - timedelta(days=14))
    assert not _due(course)
    course = _course(
        patient, started=date(2026, 11, 1), latest_phq9_at=NOW - timedelta(days=14) - MINUTE
    )
    assert _due(course)


def test_it_reads_the_rule_at_the_next_sessions_start(patient):
    course = _course(patient, started=date(2026, 11, 1), latest_phq9_at=NOW - timedelta(days=11))
    _book(course, NOW + timedelta(days=3))  # exactly 14 days old when it starts
    assert not _due(course)
    TreatmentCourse.objects.filter(pk=course.pk).update(
        latest_phq9_at=NOW - timedelta(days=11) - MINUTE
    )
    course.refresh_from_db()
    assert _due(course)


def test_it_waits_for_a_session_more_than_14_days_ahead(patient):
    # A PHQ-9 sent now would be too old by then: it is asked for in the 14 days before.
    course = _course(patient, started=date(2026, 11, 1), latest_phq9_at=NOW - timedelta(days=2))
    _book(course, NOW + timedelta(days=20))
    assert not _due(course)
    # Overdue already: due now, whenever the session is.
    TreatmentCourse.objects.filter(pk=course.pk).update(latest_phq9_at=NOW - timedelta(days=15))
    course.refresh_from_db()
    assert _due(course)


def test_it_is_due_after_two_attended_sessions_without_one(patient):
    phq9 = NOW - timedelta(days=6)
    one = _course(
        patient,
        started=date(2026, 11, 1),
        latest_phq9_at=phq9,
        attended=[NOW - timedelta(days=10), NOW - timedelta(days=3)],
    )
    assert not _due(one)
    TreatmentCourse.objects.filter(pk=one.pk).update(
        previous_attended_at=NOW - timedelta(days=5), last_attended_at=NOW - timedelta(days=1)
    )
    one.refresh_from_db()
    assert _due(one)


def test_a_course_without_a_phq9_is_due_at_14_days_old_or_after_two_sessions(patient):
    course = _course(patient, started=date(2026, 11, 26))  # 13 days old today
    assert not _due(course)
    _book(course, NOW + timedelta(days=1))  # 14 days old when the session starts
    assert _due(course)
    fresh = _course(patient, started=date(2026, 12, 2))
    assert not _due(fresh)
    TreatmentCourse.objects.filter(pk=fresh.pk).update(
        sessions_attended=2,
        previous_attended_at=NOW - timedelta(days=6),
        last_attended_at=NOW - timedelta(days=1),
    )
    fresh.refresh_from_db()
    assert _due(fresh)


def test_a_phq9_sent_clears_it(patient):
    course = _course(patient, started=date(2026, 11, 1), latest_phq9_at=NOW - timedelta(days=20))
    _book(course, NOW + timedelta(days=5))
    assert _due(course)
    measure_record(
        course=course, instrument="phq9", answers=[1] * 9, entered_by_kind=EnteredBy.PATIENT
    )
    course.refresh_from_db()
    assert not _due(course)


def test_it_is_never_due_for_a_maintenance_or_an_ended_course(patient):
    stale = NOW - timedelta(days=40)
    course = _course(
        patient,
        started=date(2026, 10, 1),
        latest_phq9_at=stale,
        course_type=CourseType.MAINTENANCE,
    )
    assert not _due(course)  # its monthly check-in asks instead
    TreatmentCourse.objects.filter(pk=course.pk).update(
        course_type=CourseType.ACUTE, status=CourseStatus.COMPLETED
    )
    course.refresh_from_db()
    assert not _due(course)


def test_it_is_the_dashboards_overdue_rule(patient, clinic):
    """With no session booked, the courses due are those the dashboard counts overdue."""
    days_old = [None, 3, 13, 14, 15, 40]
    courses = []
    for index, age in enumerate(days_old):
        other = CourseFactory(
            patient__primary_therapist=patient.primary_therapist,
            start_date=date(2026, 11, 1) + timedelta(days=index * 5),
        )
        TreatmentCourse.objects.filter(pk=other.pk).update(
            latest_phq9_at=None if age is None else NOW - timedelta(days=age, minutes=1)
        )
        other.refresh_from_db()
        courses.append(other)
    overdue = set(
        TreatmentCourse.objects.filter(
            metric_condition("phq9_overdue", Window.for_clinic(clinic.tz, NOW))
        ).values_list("pk", flat=True)
    )
    due = {course.pk for course in courses if _due(course)}
    assert due == overdue
    assert len(due) == 4  # never (started 1 Nov), 14 days, 15 and 40 days old
