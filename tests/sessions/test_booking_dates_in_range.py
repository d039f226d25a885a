"""Bookings fall from today to two years ahead (clinic time): the booking, moving and series
forms say so on the date field, and the booking service refuses a start beyond it."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from sessions import services
from sessions.models import TherapySession
from tests.conftest import login
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
SLOT = {"time": "10:00", "duration_minutes": 50, "modality": "video"}


@pytest.fixture
def client_now(therapist):
    with time_machine.travel(NOW, tick=False):
        yield login(Client(), therapist)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-31", "The date is more than 2 years ahead: choose a day until 13 Jan 2029."),
        ("2029-01-14", "The date is more than 2 years ahead: choose a day until 13 Jan 2029."),
        ("1900-01-01", "The date is in the past: choose today or later."),
    ],
)
def test_it_refuses_a_booking_date_out_of_range_with_a_clear_message(
    client_now, course, day, message
):
    response = client_now.post(reverse("therapy:book", args=[course.pk]), {"date": day, **SLOT})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TherapySession.objects.exists()


def test_it_books_on_the_last_day_but_not_the_day_after(client_now, course):
    url = reverse("therapy:book", args=[course.pk])
    refused = client_now.post(url, {"date": "2029-01-14", **SLOT})
    assert "more than 2 years ahead" in refused.content.decode()
    assert not TherapySession.objects.exists()
    assert client_now.post(url, {"date": "2029-01-13", **SLOT}).status_code == 302
    assert TherapySession.objects.get().scheduled_start.date().isoformat() == "2029-01-13"


def test_it_refuses_to_move_a_session_years_ahead(client_now, course):
    session = SessionFactory(course=course, scheduled_start=datetime(2027, 1, 20, 10, tzinfo=UTC))
    response = client_now.post(
        reverse("therapy:reschedule", args=[session.pk]),
        {"date": "9999-12-31", "version": session.version, **SLOT},
    )
    assert response.status_code == 200
    assert "more than 2 years ahead" in response.content.decode()
    session.refresh_from_db()
    assert session.scheduled_start == datetime(2027, 1, 20, 10, tzinfo=UTC)


def test_it_refuses_a_series_from_years_ahead(client_now, course):
    response = client_now.get(
        reverse("therapy:book_series", args=[course.pk]),
        {
            "first_day": "9999-12-01",
            "weekday": "2",
            "time": "10:00",
            "interval": "weekly",
            "count": "12",
            "taper_last": "0",
            "duration_minutes": "50",
            "modality": "video",
        },
    )
    assert response.status_code == 200
    assert "more than 2 years ahead" in response.content.decode()


def test_the_booking_service_refuses_a_start_beyond_two_years(course, therapist):
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(ValidationError, match="at most 2 years ahead"):
            services.session_book(
                course=course,
                start=datetime(9999, 12, 31, 23, 30, tzinfo=UTC),
                duration_minutes=50,
                modality="video",
                by=therapist,
            )
        with pytest.raises(ValidationError, match="at most 2 years ahead"):
            services.session_series_book(
                course=course,
                starts=[datetime(2027, 2, 1, 10, tzinfo=UTC), datetime(2030, 1, 1, 10, tzinfo=UTC)],
                duration_minutes=50,
                modality="video",
                by=therapist,
            )
    assert not TherapySession.objects.exists()


def test_it_refuses_homework_due_years_ahead(client_now, course):
    session = SessionFactory(course=course, scheduled_start=datetime(2027, 1, 13, 9, tzinfo=UTC))
    response = client_now.post(
        reverse("therapy:assignment_new", args=[session.pk]),
        {
            "title": "Call",
            "instructions": "Call Dana",
            "kind": "communication",
            "due_date": "9999-01-01",
        },
    )
    assert response.status_code == 200
    assert "The due date is more than 2 years ahead" in response.content.decode()
