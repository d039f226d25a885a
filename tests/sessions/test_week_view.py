from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from sessions.selectors import therapist_week
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def test_it_places_sessions_on_the_clinics_day_and_time(
    therapist_client, clinic, course, therapist
):
    clinic.time_zone = "America/New_York"
    clinic.save()
    # Tuesday 23:30 in New York is Wednesday 04:30 UTC.
    late = SessionFactory(
        course=course, scheduled_start=datetime(2030, 1, 8, 23, 30, tzinfo=NEW_YORK)
    )
    days = therapist_week(therapist=therapist, start=date(2030, 1, 7), tz=NEW_YORK)
    assert [s.pk for s in days[1].sessions] == [late.pk]
    assert days[2].sessions == []
    response = therapist_client.get(reverse("therapy:week"), {"start": "2030-01-09"})
    page = response.content.decode()
    assert "week of Monday 7 January 2030" in page
    assert ">23:30</time>" in page
    assert "04:30" not in page


def test_it_leaves_out_sessions_of_other_weeks_and_other_therapists(
    therapist_client, course, other_therapist
):
    from tests.factories import CourseFactory, PatientFactory

    SessionFactory(
        course=course, scheduled_start=datetime(2030, 1, 14, 9, tzinfo=ZoneInfo("Europe/London"))
    )
    other = CourseFactory(
        patient=PatientFactory(primary_therapist=other_therapist, first_name="Zed")
    )
    SessionFactory(
        course=other, scheduled_start=datetime(2030, 1, 8, 9, tzinfo=ZoneInfo("Europe/London"))
    )
    page = therapist_client.get(reverse("therapy:week"), {"start": "2030-01-07"}).content.decode()
    assert "Zed" not in page
    assert "session 1 of" not in page


def test_it_shows_n_of_m_for_each_session(therapist_client, course):
    london = ZoneInfo("Europe/London")
    SessionFactory(course=course, scheduled_start=datetime(2030, 1, 1, 9, tzinfo=london))
    SessionFactory(
        course=course,
        scheduled_start=datetime(2030, 1, 5, 9, tzinfo=london),
        status="cancelled_patient",
    )
    SessionFactory(course=course, scheduled_start=datetime(2030, 1, 8, 9, tzinfo=london))
    page = therapist_client.get(reverse("therapy:week"), {"start": "2030-01-07"}).content.decode()
    assert f"session 2 of {course.planned_sessions}" in page


def test_it_shows_a_clinic_admin_a_therapists_week_of_their_own_clinic_only(
    admin_client_, course, therapist, other_clinic_admin
):
    london = ZoneInfo("Europe/London")
    SessionFactory(course=course, scheduled_start=datetime(2030, 1, 8, 9, tzinfo=london))
    url = reverse("therapy:week")
    page = admin_client_.get(url, {"start": "2030-01-07", "therapist": therapist.pk})
    assert course.patient.full_name in page.content.decode()
    assert admin_client_.get(url, {"therapist": "x"}).status_code == 404
    from django.test import Client

    from tests.conftest import login

    outsider = login(Client(), other_clinic_admin)
    assert outsider.get(url, {"therapist": therapist.pk}).status_code == 404
