"""Two bookings of one therapist's slot at the same moment: the therapist's row lock makes
the second wait for the first and then see the clash."""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from sessions import notices, services
from sessions.models import TherapySession
from tests.factories import CourseFactory, PatientFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_concurrent_bookings_through(monkeypatch):
    therapist = UserFactory(username="concurrent")
    first = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    second = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    day = timezone.localdate() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/London"))
    real_hook = notices.on_session_booked

    def slow_hook(session):
        # Hold the first booking's transaction open while the second one checks.
        time.sleep(0.5)
        real_hook(session)

    monkeypatch.setattr(notices, "on_session_booked", slow_hook)
    outcomes: dict = {}

    def book(course):
        try:
            services.session_book(
                course=course, start=start, duration_minutes=50, modality="video", by=therapist
            )
            outcomes[course.pk] = "booked"
        except ValidationError as error:
            outcomes[course.pk] = error.messages[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(course,)) for course in (first, second)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(timeout=30)
    # On both databases the second waits (PostgreSQL's row lock, SQLite's write lock taken at
    # the transaction's start) and then sees the first booking.
    assert outcomes[first.pk] == "booked"
    assert "already has a session" in outcomes[second.pk], outcomes
    assert TherapySession.objects.filter(therapist=therapist).count() == 1
