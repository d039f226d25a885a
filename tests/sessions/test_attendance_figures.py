"""A course keeps its attendance figures (attended sessions, the start of the last two) in
step with its sessions: recording attendance, correcting it, and the migration that fills
them in for courses that already had sessions."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from phases.models import TreatmentCourse
from sessions import services
from sessions.attendance import refresh_attendance_figures
from sessions.models import SessionStatus, TherapySession
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _figures(course):
    course = TreatmentCourse.objects.get(pk=course.pk)
    return course.sessions_attended, course.last_attended_at, course.previous_attended_at


def _recount(course):
    """The figures worked out from the sessions table, for comparison."""
    starts = sorted(
        TherapySession.objects.filter(course=course, status=SessionStatus.ATTENDED).values_list(
            "scheduled_start", flat=True
        )
    )
    return len(starts), (starts[-1] if starts else None), (starts[-2] if len(starts) > 1 else None)


def test_recording_attendance_keeps_the_figures(course, therapist):
    now = timezone.now()
    early, late, later = (
        SessionFactory(course=course, scheduled_start=now - timedelta(days=days))
        for days in (9, 5, 1)
    )
    assert _figures(course) == (0, None, None)

    services.session_record_attendance(session=late, by=therapist, status="attended")
    assert _figures(course) == (1, late.scheduled_start, None)

    services.session_record_attendance(session=early, by=therapist, status="attended")
    assert _figures(course) == (2, late.scheduled_start, early.scheduled_start)

    # A no-show changes nothing; a correction to no-show takes the session out again.
    services.session_record_attendance(session=later, by=therapist, status="no_show")
    assert _figures(course) == (2, late.scheduled_start, early.scheduled_start)
    services.session_record_attendance(session=late, by=therapist, status="no_show")
    assert _figures(course) == (1, early.scheduled_start, None)

    services.session_record_attendance(session=later, by=therapist, status="attended")
    services.session_record_attendance(session=late, by=therapist, status="attended")
    assert _figures(course) == (3, later.scheduled_start, late.scheduled_start)
    assert _figures(course) == _recount(course)


def test_the_figures_count_only_the_courses_own_sessions(course, therapist, other_clinic):
    now = timezone.now()
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    mine = SessionFactory(course=course, scheduled_start=now - timedelta(days=2))
    SessionFactory(course=other_course, scheduled_start=now - timedelta(days=1), status="attended")
    services.session_record_attendance(session=mine, by=therapist, status="attended")
    assert _figures(course) == (1, mine.scheduled_start, None)
    assert _figures(other_course)[0] == 1


def test_refresh_puts_bulk_written_sessions_right(course):
    now = timezone.now()
    TherapySession.objects.bulk_create(
        TherapySession(
            clinic=course.clinic,
            course=course,
            therapist=course.therapist,
            scheduled_start=now - timedelta(days=days),
            status=status,
        )
        for days, status in ((20, "attended"), (13, "no_show"), (6, "attended"), (2, "attended"))
    )
    assert _figures(course) == (0, None, None)
    refresh_attendance_figures([course.pk])
    count, last, previous = _figures(course)
    assert (count, last, previous) == _recount(course)
    assert count == 3
    assert last - previous == timedelta(days=4)


def test_the_migration_fills_in_courses_with_sessions(course, therapist):
    now = timezone.now()
    TherapySession.objects.bulk_create(
        TherapySession(
            clinic=course.clinic,
            course=course,
            therapist=course.therapist,
            scheduled_start=now - timedelta(days=days),
            status="attended",
        )
        for days in (15, 8, 1)
    )
    untouched = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    migration = importlib.import_module("phases.migrations.0002_course_attendance_figures")
    migration.fill_attendance_figures(
        apps, SimpleNamespace(connection=SimpleNamespace(alias=connection.alias))
    )
    assert _figures(course) == _recount(course)
    assert _figures(course)[0] == 3
    assert _figures(untouched) == (0, None, None)


def test_the_session_page_records_attendance_with_labelled_choices(therapist_client, course):
    from django.urls import reverse

    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=2))
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    for index, (value, label) in enumerate(
        (("attended", "Attended"), ("no_show", "Did not attend"))
    ):
        assert f'value="{value}" id="id_status_{index}" required>' in page
        assert f'<label class="form-check-label" for="id_status_{index}">{label}</label>' in page

    therapist_client.post(reverse("therapy:attendance", args=[session.pk]), {"status": "no_show"})
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert 'value="no_show" id="id_status_1" required checked>' in page
