"""The calendar logic at the instants the clinic's clock makes awkward (Europe/London): Monday
00:30 in winter and in summer (when the UTC date is still Sunday), a minute before, at and an
hour after both daylight-saving changes, and a minute before the New Year. Every test here
runs at each of them on a frozen clock, and the answers are written out by hand."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.dashboard_selectors import Window, dashboard_for_clinic
from notifications.models import Notification, NotificationStatus
from notifications.sending import notification_send
from sessions import services
from tests.clock import AWKWARD_INSTANTS
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")

# The Monday starting the clinic week at each instant, and the week's length in real hours
# (the spring change takes an hour out of its week, the autumn one adds an hour to its week).
WEEKS = {
    "monday-0030": (date(2026, 12, 14), 168),
    "monday-0030-bst": (date(2027, 6, 7), 168),
    "spring-0059": (date(2027, 3, 22), 167),
    "spring-0100": (date(2027, 3, 22), 167),
    "spring-0200": (date(2027, 3, 22), 167),
    "autumn-0059": (date(2027, 10, 25), 169),
    "autumn-0100": (date(2027, 10, 25), 169),
    "autumn-0200": (date(2027, 10, 25), 169),
    "new-year-2359": (date(2026, 12, 28), 168),
}
# Each instant falls in the default quiet hours (21:00-08:00): when they end, in UTC.
QUIET_UNTIL = {
    "monday-0030": datetime(2026, 12, 14, 8, 0, tzinfo=UTC),
    "monday-0030-bst": datetime(2027, 6, 7, 7, 0, tzinfo=UTC),  # 08:00 BST
    "spring-0059": datetime(2027, 3, 28, 7, 0, tzinfo=UTC),  # 08:00 BST, after the change
    "spring-0100": datetime(2027, 3, 28, 7, 0, tzinfo=UTC),
    "spring-0200": datetime(2027, 3, 28, 7, 0, tzinfo=UTC),
    "autumn-0059": datetime(2027, 10, 31, 8, 0, tzinfo=UTC),  # 08:00 GMT, after the change
    "autumn-0100": datetime(2027, 10, 31, 8, 0, tzinfo=UTC),
    "autumn-0200": datetime(2027, 10, 31, 8, 0, tzinfo=UTC),
    "new-year-2359": datetime(2027, 1, 1, 8, 0, tzinfo=UTC),
}


@pytest.fixture(autouse=True, params=list(AWKWARD_INSTANTS))
def instant(request):
    """The name of the instant; the clock stands still there for the whole test (fixtures
    included)."""
    with time_machine.travel(AWKWARD_INSTANTS[request.param], tick=False):
        yield request.param


@pytest.fixture
def now(instant):
    return AWKWARD_INSTANTS[instant]


def test_it_starts_the_week_at_monday_midnight_clinic_time(instant, now):
    monday, hours = WEEKS[instant]
    window = Window.for_clinic(LONDON)
    assert window.today == now.astimezone(LONDON).date()
    assert window.week_start == datetime.combine(monday, time(0), tzinfo=LONDON)
    assert window.week_end == datetime.combine(monday + timedelta(days=7), time(0), tzinfo=LONDON)
    assert window.week_start <= now < window.week_end
    # In UTC: Python subtracts two times of one zone by their wall clocks.
    real_length = window.week_end.astimezone(UTC) - window.week_start.astimezone(UTC)
    assert real_length == timedelta(hours=hours)


@pytest.fixture
def edges(course):
    """Sessions a minute either side of this clinic week's two ends."""
    window = Window.for_clinic(course.clinic.tz)
    start, end = window.week_start, window.week_end
    return {
        "before": SessionFactory(
            course=course, scheduled_start=start - timedelta(minutes=1), status="attended"
        ),
        "first": SessionFactory(course=course, scheduled_start=start, status="attended"),
        "last": SessionFactory(course=course, scheduled_start=end - timedelta(minutes=1)),
        "after": SessionFactory(course=course, scheduled_start=end),
    }


def test_the_week_view_shows_this_clinic_weeks_sessions(instant, edges, therapist_client):
    monday, _ = WEEKS[instant]
    response = therapist_client.get(reverse("therapy:week"))
    assert response.status_code == 200
    assert f"week of {monday:%A} {monday.day} {monday:%B %Y}" in response.content.decode()
    days = response.context["days"]
    assert [day.day for day in days] == [monday + timedelta(days=n) for n in range(7)]
    assert [[s.pk for s in day.sessions] for day in days] == [
        [edges["first"].pk],
        [],
        [],
        [],
        [],
        [],
        [edges["last"].pk],
    ]


def test_the_dashboard_counts_this_clinic_weeks_sessions(edges, clinic, therapist, other_therapist):
    board = dashboard_for_clinic(clinic.pk, clinic.tz)
    rows = {row.therapist_id: row for row in board.rows}
    assert rows[therapist.pk].counts["sessions_week"] == 2  # the first and the last
    assert rows[other_therapist.pk].counts["sessions_week"] == 0
    assert board.totals.counts["sessions_week"] == 2
    # Both attended sessions are in the no-show rate's thirteen weeks.
    assert (rows[therapist.pk].attended_recent, rows[therapist.pk].no_show_recent) == (2, 0)


def test_it_books_a_minute_ahead_and_refuses_a_minute_ago(now, course, therapist):
    booked = services.session_book(
        course=course,
        start=now + timedelta(minutes=1),
        duration_minutes=50,
        modality="video",
        by=therapist,
    )
    assert booked.scheduled_start == now + timedelta(minutes=1)
    with pytest.raises(ValidationError, match="is in the past"):
        services.session_book(
            course=course,
            start=now - timedelta(minutes=1),
            duration_minutes=50,
            modality="video",
            by=therapist,
        )


@pytest.fixture
def texted(patient):
    patient.preferred_channel = "sms"
    patient.phone = "+447700900123"
    patient.save()
    return patient


def test_a_text_reminder_due_now_waits_for_the_end_of_quiet_hours(
    instant, now, texted, course, therapist
):
    # Booked a minute ahead: its reminder (24 hours before) is due at once, inside the quiet
    # hours, so it is put off until they end.
    session = services.session_book(
        course=course,
        start=now + timedelta(minutes=1),
        duration_minutes=50,
        modality="video",
        by=therapist,
    )
    reminder = Notification.objects.get(about_type="session", about_id=session.pk)
    assert (reminder.channel, reminder.status) == ("sms", NotificationStatus.PENDING)
    assert reminder.due_at == QUIET_UNTIL[instant]


def test_a_text_reminder_for_nine_tomorrow_goes_out_at_eight_tomorrow(
    now, texted, course, therapist
):
    clinic = course.clinic
    clinic.reminder_lead_hours = 10  # 23:00 the evening before: inside the quiet hours
    clinic.save()
    tomorrow = now.astimezone(LONDON).date() + timedelta(days=1)
    session = services.session_book(
        course=course,
        start=datetime.combine(tomorrow, time(9), tzinfo=LONDON),
        duration_minutes=50,
        modality="in_person",
        by=therapist,
    )
    reminder = Notification.objects.get(about_type="session", about_id=session.pk)
    assert reminder.due_at == datetime.combine(tomorrow, time(8), tzinfo=LONDON)


def test_a_text_message_taken_inside_quiet_hours_is_held_until_they_end(
    instant, now, texted, course, therapist
):
    session = services.session_book(
        course=course,
        start=now + timedelta(hours=30),
        duration_minutes=50,
        modality="video",
        by=therapist,
    )
    reminder = Notification.objects.get(about_type="session", about_id=session.pk)
    # As the dispatcher leaves a due row: sending, with a lease.
    Notification.objects.filter(pk=reminder.pk).update(
        due_at=now, status="sending", lease_until=now + timedelta(minutes=5)
    )
    assert notification_send(reminder.pk) == "deferred"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (NotificationStatus.PENDING, 0)
    assert reminder.next_attempt_at == QUIET_UNTIL[instant]


def test_its_instants_are_the_awkward_ones():
    """Guards the tables above: each instant is where its name says, clinic time."""
    local = {name: moment.astimezone(LONDON) for name, moment in AWKWARD_INSTANTS.items()}
    assert local["monday-0030"].strftime("%a %H:%M %Z") == "Mon 00:30 GMT"
    assert local["monday-0030-bst"].strftime("%a %H:%M %Z") == "Mon 00:30 BST"
    assert AWKWARD_INSTANTS["monday-0030-bst"].strftime("%a") == "Sun"
    assert [local[f"spring-{t}"].strftime("%H:%M %Z") for t in ("0059", "0100", "0200")] == [
        "00:59 GMT",
        "02:00 BST",
        "03:00 BST",
    ]
    assert [local[f"autumn-{t}"].strftime("%H:%M %Z") for t in ("0059", "0100", "0200")] == [
        "01:59 BST",
        "01:00 GMT",
        "02:00 GMT",
    ]
    assert local["new-year-2359"].strftime("%d %b %H:%M") == "31 Dec 23:59"
