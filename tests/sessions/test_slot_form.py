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
