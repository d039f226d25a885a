"""A maintenance contract booked as a series: monthly (every four weeks, on one weekday and
time), the remaining sessions of the contract, going on from the last session of the course
before it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sessions import series
from sessions.models import TherapySession
from sessions.selectors import course_sessions
from tests.conftest import login
from tests.factories import SessionFactory

from .maintenance_cast import maintenance_course

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Wednesday 13 January 2027, 10:00 in London (GMT).
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def maintenance(therapist):
    course = maintenance_course(therapist)
    # The completed course's last session: Wednesday 6 January, 14:00.
    SessionFactory(
        course=course.maintenance_of,
        scheduled_start=datetime(2027, 1, 6, 14, 0, tzinfo=UTC),
        status="attended",
    )
    return course


def test_the_series_opens_monthly_from_the_last_session_of_the_course_before(
    maintenance, therapist
):
    client = login(Client(), therapist)
    url = reverse("therapy:book_series", args=[maintenance.pk])
    page = client.get(url).content.decode()
    assert page.count('id="series-row-') == 12
    assert '<option value="monthly" selected>Monthly (every four weeks)</option>' in page
    assert 'name="first_day" value="2027-02-03"' in page
    assert 'name="time" value="14:00"' in page
    assert 'name="weekday"' in page and '<option value="2" selected>' in page
    assert "12 sessions contracted, 0 held, 12 neither held nor booked." in page

    form = {
        "first_day": "2027-02-03",
        "weekday": "2",
        "time": "14:00",
        "interval": "monthly",
        "count": "12",
        "taper_last": "0",
        "duration_minutes": "50",
        "modality": "in_person",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    booked = list(TherapySession.objects.filter(course=maintenance).order_by("scheduled_start"))
    local = [s.scheduled_start.astimezone(LONDON) for s in booked]
    assert [d.date() for d in local] == [
        date(2027, 2, 3) + timedelta(weeks=4 * n) for n in range(12)
    ]
    # 14:00 clinic time all year: GMT in winter, BST from the end of March.
    assert {(d.hour, d.minute) for d in local} == {(14, 0)}
    assert booked[2].scheduled_start == datetime(2027, 3, 31, 13, 0, tzinfo=UTC)


def test_the_series_takes_a_contract_of_up_to_36_sessions(maintenance, therapist):
    client = login(Client(), therapist)
    url = reverse("therapy:book_series", args=[maintenance.pk])
    query = {
        "first_day": "2027-02-03",
        "weekday": "2",
        "time": "14:00",
        "interval": "monthly",
        "taper_last": "0",
        "duration_minutes": "50",
        "modality": "in_person",
    }
    page = client.get(url, {**query, "count": "36"}).content.decode()
    assert page.count('id="series-row-') == 36
    # Booking stops two years ahead: the dates after it are shown, not bookable.
    assert page.count("More than two years ahead.") == 10
    refused = client.get(url, {**query, "count": "37"}).content.decode()
    assert 'id="series-row-' not in refused
    assert "less than or equal to 36" in refused


def test_boosters_come_on_top_of_the_contract(maintenance, therapist):
    client = login(Client(), therapist)
    assert series.remaining_sessions(maintenance, course_sessions(maintenance)) == 12
    booster = {"sign": "0", "date": "2027-01-20", "time": "15:00"}
    response = client.post(
        reverse("therapy:booster_book", args=[maintenance.pk]),
        {**booster, "duration_minutes": "45", "modality": "video"},
    )
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert series.remaining_sessions(maintenance, course_sessions(maintenance)) == 12
