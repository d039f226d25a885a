"""Booking the contract as a series: a preview of every date with its clashes, each clash
skipped or moved on its row, and one confirmation that books them all or none, each session
through the same checks, audit and outbox hook as a single booking."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from notifications.models import Notification
from sessions.models import TherapySession
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

# Monday 11 January 2027, 09:00 in London (GMT).
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
FIRST_WEDNESDAY = date(2027, 1, 13)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _wednesday(week: int, hour: int, minute: int = 0) -> datetime:
    """The Wednesday ``week`` weeks after the first, at ``hour`` clinic time (BST from the
    end of March)."""
    day = FIRST_WEDNESDAY + timedelta(weeks=week)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def _series(**changes) -> dict:
    return {
        "first_day": "2027-01-12",
        "weekday": "2",
        "time": "10:00",
        "interval": "weekly",
        "count": "12",
        "taper_last": "0",
        "duration_minutes": "50",
        "modality": "in_person",
        **changes,
    }


@pytest.fixture
def contract(therapist):
    """A 12-session contract, nothing booked; the therapist already sees someone else on the
    third Wednesday at 10:00 and on the fifth at 10:30 (until 11:20)."""
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist, first_name="Jamie"),
        planned_sessions=12,
    )
    other = CourseFactory(patient=PatientFactory(primary_therapist=therapist, first_name="Robin"))
    SessionFactory(course=other, scheduled_start=_wednesday(2, 10))
    SessionFactory(course=other, scheduled_start=_wednesday(4, 10, 30))
    return course


def test_it_previews_every_date_with_its_clashes(therapist_client, contract):
    url = reverse("therapy:book_series", args=[contract.pk])
    page = therapist_client.get(url, _series())
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('id="series-row-') == 12
    third = html.split('id="series-row-2"')[1].split("</tr>")[0]
    assert "Robin" in third and "from 10:00 to 10:50" in third
    assert "Next free slot that day: 10:50" in third
    fifth = html.split('id="series-row-4"')[1].split("</tr>")[0]
    assert "from 10:30 to 11:20" in fifth and "Next free slot that day: 11:20" in fifth
    first = html.split('id="series-row-0"')[1].split("</tr>")[0]
    assert "Free" in first and "clash" not in first
    assert not TherapySession.objects.filter(course=contract).exists()


def test_it_books_twelve_dates_in_one_confirmation_with_a_clash_skipped_and_one_moved(
    therapist_client, contract, therapist
):
    url = reverse("therapy:book_series", args=[contract.pk])
    response = therapist_client.post(
        url, {**_series(), "row_2": "skip", "row_4": "move", "row_4_time": "14:00"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("phases:course", args=[contract.pk])

    booked = list(TherapySession.objects.filter(course=contract).order_by("scheduled_start"))
    expected = [_wednesday(week, 10) for week in range(12) if week not in (2, 4)]
    expected.append(_wednesday(4, 14))
    assert [s.scheduled_start for s in booked] == sorted(expected)
    assert {(s.status, s.therapist_id, s.duration_minutes) for s in booked} == {
        ("scheduled", therapist.pk, 50)
    }
    # Each session as a single booking makes it: an audit event and a reminder in the outbox.
    ids = [s.pk for s in booked]
    reminders = Notification.objects.filter(about_type="session", about_id__in=ids)
    assert sorted(reminders.values_list("about_id", flat=True)) == sorted(ids)
    assert set(reminders.values_list("status", flat=True)) == {"pending"}
    created = AuditEvent.objects.filter(action="create", object_id__in=[str(i) for i in ids])
    assert created.count() == 11

    course_page = therapist_client.get(response["Location"]).content.decode()
    assert "11 sessions booked" in course_page and "(1 skipped)" in course_page


def test_it_books_nothing_when_one_date_cannot_be_booked(therapist_client, contract):
    url = reverse("therapy:book_series", args=[contract.pk])
    response = therapist_client.post(
        url, {**_series(), "row_2": "skip", "row_4": "move", "row_4_time": "10:45"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was booked" in html
    assert "Wed 10 Feb 2027 10:45" in html and "already has a session" in html
    assert not TherapySession.objects.filter(course=contract).exists()
    assert not Notification.objects.filter(patient=contract.patient).exists()
    # The choices made are still on the rows.
    row = html.split('id="series-row-4"')[1].split("</tr>")[0]
    assert 'value="10:45"' in row and 'value="move" id="row_4_move" checked' in row


def test_it_asks_again_about_a_clash_left_to_book(therapist_client, contract):
    url = reverse("therapy:book_series", args=[contract.pk])
    response = therapist_client.post(url, {**_series(), "row_2": "book", "row_4": "skip"})
    assert response.status_code == 200
    assert "Wed 27 Jan 2027: " in response.content.decode()
    assert "Skip it or move it." in response.content.decode()
    assert not TherapySession.objects.filter(course=contract).exists()


def test_it_tapers_the_last_sessions_to_every_two_weeks(therapist_client, contract):
    url = reverse("therapy:book_series", args=[contract.pk])
    response = therapist_client.post(
        url, {**_series(count="5", taper_last="2", time="16:00", weekday="3")}
    )
    assert response.status_code == 302
    starts = TherapySession.objects.filter(course=contract).values_list(
        "scheduled_start", flat=True
    )
    days = [start.date() for start in sorted(starts)]
    assert days == [
        date(2027, 1, 14),
        date(2027, 1, 21),
        date(2027, 1, 28),
        date(2027, 2, 11),
        date(2027, 2, 25),
    ]


def test_it_opens_with_the_remaining_sessions_fortnightly_in_termination(
    therapist_client, therapist
):
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        planned_sessions=12,
        phase="termination",
    )
    for week in range(1, 10):
        SessionFactory(
            course=course, scheduled_start=NOW - timedelta(weeks=week, hours=-2), status="attended"
        )
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=2, hours=2))
    course_page = therapist_client.get(reverse("phases:course", args=[course.pk]))
    assert "Book the remaining 2 sessions" in course_page.content.decode()

    form = therapist_client.get(reverse("therapy:book_series", args=[course.pk])).context["form"]
    assert (form["count"].value(), form["interval"].value()) == ("2", "fortnightly")
    # From one interval after the latest session, on its weekday and at its time.
    assert (form["first_day"].value(), form["weekday"].value(), form["time"].value()) == (
        "2027-01-27",
        "2",
        "11:00",
    )


def test_it_leaves_the_other_sessions_of_a_series_alone(therapist_client, contract, therapist):
    from sessions import services

    url = reverse("therapy:book_series", args=[contract.pk])
    therapist_client.post(url, _series(count="4", time="15:00"))
    first, second, third, fourth = TherapySession.objects.filter(course=contract).order_by(
        "scheduled_start"
    )
    services.session_reschedule(
        session=second,
        start=second.scheduled_start + timedelta(hours=1),
        duration_minutes=50,
        modality="in_person",
        by=therapist,
        expected_version=second.version,
    )
    services.session_cancel(session=third, by=therapist, by_whom="patient", reason="Away")
    for session, start in ((first, _wednesday(0, 15)), (fourth, _wednesday(3, 15))):
        session.refresh_from_db()
        assert (session.status, session.scheduled_start) == ("scheduled", start)
        reminder = Notification.objects.get(about_type="session", about_id=session.pk)
        assert reminder.status == "pending"
