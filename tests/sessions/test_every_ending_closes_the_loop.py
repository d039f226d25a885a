"""Every ending closes the loop (issue 19, point 2): completing a course, a drop-out,
discharging or archiving the patient cancel the future sessions, withdraw their reminders and
the open homework's notices, take them off the portal and record what was cancelled."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from ipt_clinic.audit.models import AuditEvent
from notifications.models import Notification
from patients.services import patient_archive, patient_discharge
from phases.models import CourseStatus, Phase, TreatmentCourse
from phases.services import course_advance, course_drop_out
from portal.selectors import portal_upcoming_sessions
from sessions import notices
from sessions.models import SessionStatus, TherapySession
from sessions.services import COURSE_ENDED_REASON
from tests.factories import AssignmentFactory, CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A Wednesday morning, clinic time: no quiet hours, no week or DST edge.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _booked(therapist, phase=Phase.PROBLEM_SOLVING):
    """A course with one session held, three ahead (each with its reminder) and open
    homework (with its notices)."""
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist), phase=phase)
    SessionFactory(
        course=course, scheduled_start=NOW - timedelta(days=7), status=SessionStatus.ATTENDED
    )
    ahead = [
        SessionFactory(course=course, scheduled_start=NOW + timedelta(days=days, hours=1))
        for days in (1, 8, 15)
    ]
    for session in ahead:
        assert notices.on_session_booked(session) is not None
    homework = AssignmentFactory(course=course)
    assert len(notices.on_assignment_set(homework)) == 2
    return course


def _pending(course) -> list[Notification]:
    return list(
        Notification.objects.filter(patient_id=course.patient_id, status="pending").order_by("pk")
    )


def _future_scheduled(course):
    return TherapySession.objects.filter(
        course=course, status=SessionStatus.SCHEDULED, scheduled_start__gt=NOW
    )


def _end_directly(course) -> None:
    # An ending that bypassed the services (an old record, a hand fix): discharge and
    # archive still close what it left open.
    TreatmentCourse.objects.filter(pk=course.pk).update(status=CourseStatus.COMPLETED)


def _complete(course, by) -> None:
    # A decided ending (phases.services.completion_checklist): a PHQ-9 this week, down by
    # more than half.
    TreatmentCourse.objects.filter(pk=course.pk).update(
        baseline_phq9=18, latest_phq9=6, latest_phq9_at=NOW - timedelta(days=2)
    )
    course_advance(course=course, by=by, override_reason="Goals met early.")


ROUTES = {
    "complete": _complete,
    "drop out": lambda course, by: course_drop_out(course=course, by=by, reason="Stopped coming."),
    "discharge": lambda course, by: (
        _end_directly(course),
        patient_discharge(patient=course.patient, by=by),
    ),
    "archive": lambda course, by: (
        _end_directly(course),
        patient_archive(patient=course.patient, by=by),
    ),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_it_leaves_nothing_booked_pending_or_on_the_portal(route, therapist):
    course = _booked(therapist, phase=Phase.TERMINATION)
    assert portal_upcoming_sessions(course.patient).count() == 3
    ROUTES[route](course, therapist)

    assert not _future_scheduled(course).exists()
    cancelled = TherapySession.objects.filter(course=course, status=SessionStatus.CANCELLED_CLINIC)
    assert cancelled.count() == 3
    assert {session.cancel_reason for session in cancelled} == {COURSE_ENDED_REASON}
    assert TherapySession.objects.filter(course=course, status=SessionStatus.ATTENDED).count() == 1
    assert _pending(course) == []
    assert (
        Notification.objects.filter(patient_id=course.patient_id, status="cancelled").count() == 5
    )
    assert list(portal_upcoming_sessions(course.patient)) == []


def test_it_records_what_was_cancelled_in_one_event(therapist):
    course = _booked(therapist)
    reminders = [row.pk for row in _pending(course) if row.about_type == "session"]
    notices = [row.pk for row in _pending(course) if row.about_type == "assignment"]
    course_drop_out(course=course, by=therapist, reason="Moved away.")

    events = AuditEvent.objects.filter(
        patient_id=course.patient_id, changes__has_key="cancelled_sessions"
    )
    assert events.count() == 1
    event = events.get()
    sessions = event.changes["cancelled_sessions"]
    assert [row["id"] for row in sessions] == [
        session.pk
        for session in TherapySession.objects.filter(
            course=course, status=SessionStatus.CANCELLED_CLINIC
        ).order_by("scheduled_start")
    ]
    assert all(row["start"] for row in sessions)
    assert event.changes["withdrawn_reminders"] == reminders
    assert event.changes["withdrawn_homework_notices"] == notices
    assert "3 future session(s) cancelled" in event.summary


def test_it_lists_only_scheduled_sessions_of_active_courses_on_the_portal(therapist):
    course = _booked(therapist)
    _end_directly(course)
    assert list(portal_upcoming_sessions(course.patient)) == []
