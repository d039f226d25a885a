"""After any session, "book the next one": the booking form filled in one interval of the
course's frequency later, at the same time, length and modality."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)  # a Wednesday, clinic time GMT


@pytest.mark.parametrize(
    ("frequency", "next_day"),
    [
        ("weekly", date(2027, 1, 20)),
        ("fortnightly", date(2027, 1, 27)),
        ("twice_weekly", date(2027, 1, 16)),  # Wednesday, then Saturday... three days on
        ("monthly", date(2027, 2, 10)),
    ],
)
def test_it_fills_in_the_next_session_one_interval_later(therapist, frequency, next_day):
    with time_machine.travel(NOW, tick=False):
        therapist_client = login(Client(), therapist)
        course = CourseFactory(
            patient=PatientFactory(primary_therapist=therapist), frequency=frequency
        )
        held = SessionFactory(
            course=course,
            scheduled_start=datetime(2027, 1, 13, 9, 30, tzinfo=UTC),
            duration_minutes=60,
            modality="video",
            status="attended",
        )
        page = therapist_client.get(reverse("therapy:session", args=[held.pk])).content.decode()
        link = f"{reverse('therapy:book', args=[course.pk])}?after={held.pk}"
        assert f'href="{link}"' in page and "Book the next one" in page

        form = therapist_client.get(link).context["form"]
        # A session of another course fills in nothing of its own.
        elsewhere = SessionFactory(
            course=CourseFactory(patient=PatientFactory(primary_therapist=therapist)),
            scheduled_start=datetime(2027, 1, 12, 9, 30, tzinfo=UTC),
            duration_minutes=90,
        )
        book = reverse("therapy:book", args=[course.pk])
        default = therapist_client.get(f"{book}?after={elsewhere.pk}").context["form"]
    assert (default.initial["date"], default.initial["duration_minutes"]) == (
        date(2027, 1, 14),
        course.session_minutes,
    )
    assert form.initial == {
        "date": next_day,
        "time": time(9, 30),
        "duration_minutes": 60,
        "modality": "video",
    }
