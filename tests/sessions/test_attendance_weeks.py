"""Each therapist's attended and did-not-attend sessions per clinic week (what the clinic
dashboard's no-show rate adds up) stay in step with the sessions: recording attendance,
correcting it, bulk loads and the migration that fills them in."""

import importlib
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from sessions import services
from sessions.attendance import rebuild_attendance_weeks
from sessions.models import AttendanceWeek, TherapySession
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _weeks(clinic) -> dict:
    return {
        (w.therapist_id, w.week_start): (w.attended, w.no_show)
        for w in AttendanceWeek.objects.filter(clinic=clinic)
        if w.attended or w.no_show
    }


def _at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _bulk_sessions(course, days_and_statuses) -> None:
    """Sessions written in bulk (as the seed writes them), from 1 October 2026 09:00 UTC
    plus the days given: nothing keeps the weeks for them."""
    TherapySession.objects.bulk_create(
        TherapySession(
            clinic=course.clinic,
            course=course,
            therapist=course.therapist,
            scheduled_start=_at(2026, 10, 1, 9) + timedelta(days=days),
            status=status,
        )
        for days, status in days_and_statuses
    )


def test_recording_attendance_keeps_the_therapists_weeks(clinic, course, therapist):
    # November: London is on UTC. Monday 2 November to Sunday 8 November is one week.
    monday, sunday_night, next_monday = (
        SessionFactory(course=course, scheduled_start=moment)
        for moment in (_at(2026, 11, 2, 10), _at(2026, 11, 8, 23, 30), _at(2026, 11, 9, 0, 30))
    )
    assert _weeks(clinic) == {}

    services.session_record_attendance(session=monday, by=therapist, status="attended")
    services.session_record_attendance(session=sunday_night, by=therapist, status="no_show")
    services.session_record_attendance(session=next_monday, by=therapist, status="attended")
    first, second = date(2026, 11, 2), date(2026, 11, 9)
    assert _weeks(clinic) == {(therapist.pk, first): (1, 1), (therapist.pk, second): (1, 0)}

    # A correction moves the session from one figure to the other.
    services.session_record_attendance(session=sunday_night, by=therapist, status="attended")
    services.session_record_attendance(session=next_monday, by=therapist, status="no_show")
    assert _weeks(clinic) == {(therapist.pk, first): (2, 0), (therapist.pk, second): (0, 1)}

    kept = _weeks(clinic)
    rebuild_attendance_weeks(clinic.pk, clinic.tz)
    assert _weeks(clinic) == kept


def test_weeks_follow_the_clinic_clock_and_each_therapist(clinic, course, other_therapist):
    # Summer time: Monday 1 June 00:30 in London is Sunday 23:30 UTC, in the week of 1 June;
    # Sunday 31 May 23:30 in London (22:30 UTC) is in the week before.
    SessionFactory(course=course, scheduled_start=_at(2026, 5, 31, 23, 30), status="attended")
    SessionFactory(course=course, scheduled_start=_at(2026, 5, 31, 22, 30), status="no_show")
    theirs = CourseFactory(patient=PatientFactory(primary_therapist=other_therapist))
    SessionFactory(course=theirs, scheduled_start=_at(2026, 6, 2, 9), status="attended")
    # Cancelled and scheduled sessions are in no figure.
    SessionFactory(course=course, scheduled_start=_at(2026, 6, 2, 9), status="cancelled_patient")
    SessionFactory(course=course, scheduled_start=_at(2026, 6, 3, 9))
    expected = {
        (course.therapist_id, date(2026, 6, 1)): (1, 0),
        (course.therapist_id, date(2026, 5, 25)): (0, 1),
        (other_therapist.pk, date(2026, 6, 1)): (1, 0),
    }
    assert _weeks(clinic) == expected  # kept one session at a time (as the service keeps them)
    rebuild_attendance_weeks(clinic.pk, clinic.tz)
    assert _weeks(clinic) == expected  # and worked out for the whole clinic at once


def test_rebuild_puts_bulk_written_sessions_right(clinic, course, other_clinic):
    _bulk_sessions(course, ((0, "attended"), (1, "no_show"), (7, "attended"), (8, "scheduled")))
    # A stale figure from before (a week whose sessions are not there) is put back to nothing.
    AttendanceWeek.objects.create(
        clinic=clinic, therapist=course.therapist, week_start=date(2026, 9, 7), attended=4
    )
    assert rebuild_attendance_weeks(clinic.pk, clinic.tz) == 2
    assert _weeks(clinic) == {
        (course.therapist_id, date(2026, 9, 28)): (1, 1),
        (course.therapist_id, date(2026, 10, 5)): (1, 0),
    }
    assert _weeks(other_clinic) == {}


def test_the_migration_fills_in_the_weeks(clinic, course):
    _bulk_sessions(course, ((0, "attended"), (1, "no_show"), (14, "attended")))
    migration = importlib.import_module("sessions.migrations.0005_attendance_weeks")
    migration.fill_attendance_weeks(
        apps, SimpleNamespace(connection=SimpleNamespace(alias=connection.alias))
    )
    filled = _weeks(clinic)
    assert filled == {
        (course.therapist_id, date(2026, 9, 28)): (1, 1),
        (course.therapist_id, date(2026, 10, 12)): (1, 0),
    }
    rebuild_attendance_weeks(clinic.pk, clinic.tz)
    assert _weeks(clinic) == filled


@pytest.mark.django_db(transaction=True)
def test_two_attendances_recorded_at_once_are_both_counted(monkeypatch):
    """The week's row is locked before its sessions are counted: the second recording waits
    for the first to commit and counts it too, rather than writing a count without it."""
    import threading
    import time

    from tests.factories import UserFactory

    therapist = UserFactory(username="concurrent.attendance")
    sessions = [
        SessionFactory(
            course=CourseFactory(patient=PatientFactory(primary_therapist=therapist)),
            scheduled_start=_at(2026, 11, 3 + n, 10),
        )
        for n in range(2)
    ]
    # The week's row is there already (an attendance recorded earlier in the week), so the
    # two do not meet first at its creation.
    SessionFactory(
        course=CourseFactory(patient=PatientFactory(primary_therapist=therapist)),
        scheduled_start=_at(2026, 11, 2, 10),
        status="attended",
    )
    real_audit = services.audit_record

    def slow_audit(**kwargs):
        # Hold the first recording's transaction open after it counted its week.
        time.sleep(0.5)
        real_audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow_audit)
    outcomes: dict = {}

    def record(session):
        try:
            services.session_record_attendance(session=session, by=therapist, status="attended")
            outcomes[session.pk] = "recorded"
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(timeout=30)
    week = AttendanceWeek.objects.get(therapist=therapist, week_start=date(2026, 11, 2))
    # On both databases the second waits for the first (PostgreSQL's row lock, SQLite's write
    # lock taken at the transaction's start) and counts it.
    assert list(outcomes.values()) == ["recorded", "recorded"]
    assert (week.attended, week.no_show) == (3, 0)


def test_the_command_works_every_figure_out_again(clinic, course, other_clinic):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from phases.models import TreatmentCourse

    _bulk_sessions(course, ((0, "attended"), (1, "no_show"), (7, "attended")))
    assert _weeks(clinic) == {}
    out = StringIO()
    call_command("refresh_attendance_figures", "--clinic", clinic.slug, stdout=out)
    assert _weeks(clinic) == {
        (course.therapist_id, date(2026, 9, 28)): (1, 1),
        (course.therapist_id, date(2026, 10, 5)): (1, 0),
    }
    refreshed = TreatmentCourse.objects.get(pk=course.pk)
    assert refreshed.sessions_attended == 2
    assert refreshed.last_attended_at == _at(2026, 10, 8, 9)
    assert f"{clinic.name}: 1 course, 2 therapist weeks with attendance." in out.getvalue()
    with pytest.raises(CommandError, match="No clinic"):
        call_command("refresh_attendance_figures", "--clinic", "nowhere", stdout=StringIO())
