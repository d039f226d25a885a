from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import TherapySession
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int, minute: int = 0, tz="Europe/London") -> datetime:
    day = timezone.localdate(timezone=ZoneInfo(tz)) + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


def test_it_books_a_session(course, therapist):
    session = services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    assert (session.therapist, session.clinic_id, session.status) == (
        therapist,
        course.clinic_id,
        "scheduled",
    )


def test_it_refuses_double_booking_the_therapist_and_names_the_clash(course, therapist):
    services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    other_patient_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError) as refused:
        services.session_book(
            course=other_patient_course,
            start=_at(3, 10, 30),
            duration_minutes=50,
            modality="in_person",
            by=therapist,
        )
    message = refused.value.messages[0]
    assert "already has a session" in message and "10:00" in message and "10:50" in message
    assert TherapySession.objects.count() == 1


def test_it_allows_back_to_back_sessions(course, therapist):
    services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    services.session_book(
        course=course, start=_at(3, 10, 50), duration_minutes=50, modality="video", by=therapist
    )
    services.session_book(
        course=course, start=_at(3, 9, 10), duration_minutes=50, modality="video", by=therapist
    )
    assert TherapySession.objects.count() == 3


def test_it_refuses_a_session_that_starts_before_and_overlaps(course, therapist):
    services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    with pytest.raises(ValidationError, match="already has a session"):
        services.session_book(
            course=course, start=_at(3, 8, 30), duration_minutes=120, modality="video", by=therapist
        )


def test_it_ignores_cancelled_sessions_when_checking_overlap(course, therapist):
    first = services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    services.session_cancel(session=first, by=therapist, by_whom="patient", reason="Ill")
    services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    assert TherapySession.objects.exclude(status__startswith="cancelled").count() == 1


def test_it_does_not_count_another_therapists_sessions(course, therapist, other_therapist):
    services.session_book(
        course=course, start=_at(3, 10), duration_minutes=50, modality="video", by=therapist
    )
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=other_therapist))
    services.session_book(
        course=other_course,
        start=_at(3, 10),
        duration_minutes=50,
        modality="video",
        by=other_therapist,
    )
    assert TherapySession.objects.count() == 2


def test_it_refuses_a_new_session_in_the_past(course, therapist):
    with pytest.raises(ValidationError, match="in the past"):
        services.session_book(
            course=course,
            start=timezone.now() - timedelta(minutes=5),
            duration_minutes=50,
            modality="video",
            by=therapist,
        )
    assert not TherapySession.objects.exists()


def test_it_books_through_the_form_in_the_clinics_time_zone(therapist_client, course, clinic):
    clinic.time_zone = "America/New_York"
    clinic.save()
    day = timezone.localdate(timezone=ZoneInfo("America/New_York")) + timedelta(days=5)
    response = therapist_client.post(
        reverse("therapy:book", args=[course.pk]),
        {"date": day.isoformat(), "time": "09:30", "duration_minutes": 50, "modality": "phone"},
    )
    assert response.status_code == 302
    session = TherapySession.objects.get()
    expected = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    assert session.scheduled_start == expected
    assert session.scheduled_start.astimezone(ZoneInfo("UTC")).hour in (13, 14)


def test_it_shows_a_clash_on_the_booking_form(therapist_client, course, therapist):
    SessionFactory(course=course, scheduled_start=_at(4, 14), duration_minutes=50)
    response = therapist_client.post(
        reverse("therapy:book", args=[course.pk]),
        {
            "date": _at(4, 14).date().isoformat(),
            "time": "14:20",
            "duration_minutes": 50,
            "modality": "phone",
        },
    )
    assert response.status_code == 200
    assert "already has a session" in response.content.decode()
    assert TherapySession.objects.count() == 1


def test_it_refuses_a_past_booking_on_the_form(therapist_client, course):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = therapist_client.post(
        reverse("therapy:book", args=[course.pk]),
        {
            "date": yesterday.isoformat(),
            "time": "10:00",
            "duration_minutes": 50,
            "modality": "video",
        },
    )
    assert response.status_code == 200
    assert "in the past" in response.content.decode()
    assert not TherapySession.objects.exists()


def test_it_refuses_to_reschedule_into_a_clash(course, therapist):
    first = SessionFactory(course=course, scheduled_start=_at(5, 10))
    second = SessionFactory(course=course, scheduled_start=_at(5, 12))
    with pytest.raises(ValidationError, match="already has a session"):
        services.session_reschedule(
            session=second,
            start=_at(5, 10, 15),
            duration_minutes=50,
            modality="video",
            by=therapist,
            expected_version=second.version,
        )
    second.refresh_from_db()
    assert second.scheduled_start == _at(5, 12)
    # Moving a session within its own slot is no clash with itself.
    services.session_reschedule(
        session=first,
        start=_at(5, 10, 10),
        duration_minutes=50,
        modality="video",
        by=therapist,
        expected_version=first.version,
    )


def test_it_cancels_and_calls_the_outbox(monkeypatch, course, therapist):
    called = []
    monkeypatch.setattr("sessions.notices.on_session_cancelled", called.append)
    session = SessionFactory(course=course)
    services.session_cancel(session=session, by=therapist, by_whom="clinic", reason="Therapist ill")
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == ("cancelled_clinic", "Therapist ill")
    assert called == [session]
    with pytest.raises(ValidationError, match="Only a scheduled session"):
        services.session_cancel(session=session, by=therapist, by_whom="clinic", reason="Again")


def test_it_records_attendance_only_once_the_session_started(course, therapist):
    future = SessionFactory(course=course)
    with pytest.raises(ValidationError, match="once the session has started"):
        services.session_record_attendance(session=future, by=therapist, status="attended")
    past = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    services.session_record_attendance(session=past, by=therapist, status="no_show")
    past.refresh_from_db()
    assert past.status == "no_show"
