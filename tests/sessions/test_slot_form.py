import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sessions.forms import SlotForm

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _booking_from_2030():
    # The dates below lie within the two years ahead that a booking may reach from here.
    with time_machine.travel(datetime(2030, 1, 15, 12, tzinfo=UTC), tick=False):
        yield


def test_it_refuses_a_time_skipped_by_the_clock_change():
    form = SlotForm(
        {"date": "2031-03-30", "time": "01:30", "duration_minutes": 50, "modality": "video"},
        tz=LONDON,
    )
    assert not form.is_valid()
    assert "does not exist" in form.non_field_errors()[0]


def test_it_reads_the_time_in_the_clinics_zone():
    form = SlotForm(
        {"date": "2031-07-01", "time": "09:00", "duration_minutes": 50, "modality": "video"},
        tz=LONDON,
    )
    assert form.is_valid()
    start = form.cleaned_data["start"]
    assert start.utcoffset().total_seconds() == 3600
    assert (start.date(), start.time()) == (date(2031, 7, 1), time(9, 0))


def test_it_refuses_durations_out_of_range():
    form = SlotForm(
        {"date": "2031-07-01", "time": "09:00", "duration_minutes": 500, "modality": "video"},
        tz=LONDON,
    )
    assert not form.is_valid() and "duration_minutes" in form.errors


@pytest.mark.django_db
def test_the_date_fields_of_the_booking_pages_show_their_dates(therapist_client, course):
    # A date field reads only yyyy-mm-dd: a value in the clinic's own format (15/01/2030)
    # came up blank, so "Move" lost the session's date and "Book" the suggested day.
    from django.urls import reverse

    from tests.factories import SessionFactory

    session = SessionFactory(
        course=course, scheduled_start=datetime(2030, 1, 22, 10, tzinfo=UTC), status="scheduled"
    )
    for url, value in [
        (reverse("therapy:reschedule", args=[session.pk]), "2030-01-22"),
        (reverse("therapy:book", args=[course.pk]), "2030-"),
        (reverse("therapy:book_series", args=[course.pk]), "2030-"),
    ]:
        page = therapist_client.get(url).content.decode()
        values = re.findall(r'<input type="date"[^>]*value="([^"]*)"', page)
        assert values, url
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values), (url, values)
        assert values[0].startswith(value), (url, values)
