"""A maintenance course's monthly PHQ-9 check-in: asked for on the day of the course's start in
each month after it, through the reminders outbox (a message naming nothing clinical, with
the portal's link) and the portal (which shows it as due until it is answered)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notification_send
from patients.portal_links import portal_link_create
from phases.maintenance import add_months, checkin_now
from phases.models import TreatmentCourse
from phases.services import course_drop_out
from sessions.measures import measure_record
from sessions.notices import MAINTENANCE_CHECKIN, maintenance_checkins_request
from tests.portal.links import open_portal

from .maintenance_cast import maintenance_course

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The course starts on Wednesday 13 January 2027 (GMT); its check-ins fall on the 13th.
STARTED = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture
def maintenance(therapist):
    with time_machine.travel(STARTED, tick=False):
        return maintenance_course(therapist)


def _phq9(course, at: datetime, answers=(1, 1, 1, 0, 0, 1, 0, 0, 0)):
    with time_machine.travel(at, tick=False):
        return measure_record(course=course, instrument="phq9", answers=list(answers))


def _checkins():
    return list(Notification.objects.filter(kind=MAINTENANCE_CHECKIN).order_by("due_at"))


def test_check_in_days_fall_monthly_from_the_start_even_in_short_months(therapist):
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 31), 2) == date(2027, 3, 31)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    with time_machine.travel(datetime(2027, 1, 31, 12, tzinfo=UTC), tick=False):
        course = maintenance_course(therapist, start_date=date(2027, 1, 31))
    month = {"tz": LONDON}
    assert checkin_now(course, today=date(2027, 2, 27), **month) is None
    feb = checkin_now(course, today=date(2027, 2, 28), **month)
    assert (feb.day, feb.number, feb.due) == (date(2027, 2, 28), 1, True)
    assert checkin_now(course, today=date(2027, 3, 30), **month).day == date(2027, 2, 28)
    assert checkin_now(course, today=date(2027, 3, 31), **month).day == date(2027, 3, 31)
    # A PHQ-9 in the week before the day (at a session, say) answers that month's check-in.
    _phq9(course, datetime(2027, 3, 24, 12, tzinfo=UTC))
    course.refresh_from_db()
    assert checkin_now(course, today=date(2027, 3, 31), **month).answered
    assert not checkin_now(course, today=date(2027, 4, 30), **month).answered


def test_beat_asks_once_a_month_at_nine_in_the_morning_clinic_time(maintenance):
    with time_machine.travel(datetime(2027, 2, 12, 23, 30, tzinfo=UTC), tick=False):
        assert maintenance_checkins_request() == 0
    with time_machine.travel(datetime(2027, 2, 13, 0, 30, tzinfo=UTC), tick=False):
        assert maintenance_checkins_request() == 1
        assert maintenance_checkins_request() == 1  # the same row, not a second one
    [february] = _checkins()
    assert february.about_type == "course" and february.about_id == maintenance.pk
    assert february.due_at == datetime(2027, 2, 13, 9, 0, tzinfo=UTC)
    assert (february.status, february.recipient) == ("pending", maintenance.patient.email)
    # In summer the clinic's 09:00 is 08:00 UTC.
    with time_machine.travel(datetime(2027, 6, 13, 1, 0, tzinfo=UTC), tick=False):
        maintenance_checkins_request()
    assert [row.due_at for row in _checkins()] == [
        datetime(2027, 2, 13, 9, 0, tzinfo=UTC),
        datetime(2027, 6, 13, 8, 0, tzinfo=UTC),
    ]


def test_beat_does_not_ask_when_the_month_is_answered_or_the_course_is_acute(
    maintenance, therapist
):
    _phq9(maintenance, datetime(2027, 2, 9, 15, tzinfo=UTC))
    with time_machine.travel(datetime(2027, 2, 13, 6, 0, tzinfo=UTC), tick=False):
        assert maintenance_checkins_request() == 0
    acute = TreatmentCourse.objects.get(pk=maintenance.maintenance_of_id)
    assert acute.course_type == "acute"
    assert _checkins() == []


def _send(row: Notification, at: datetime) -> str:
    with time_machine.travel(at, tick=False):
        Notification.objects.filter(pk=row.pk).update(
            status="sending", lease_until=timezone.now() + timedelta(minutes=5)
        )
        return notification_send(row.pk)


def test_the_message_names_a_short_questionnaire_and_the_portal_and_nothing_clinical(
    maintenance,
):
    with time_machine.travel(datetime(2027, 2, 13, 0, 30, tzinfo=UTC), tick=False):
        maintenance_checkins_request()
    [row] = _checkins()
    assert _send(row, datetime(2027, 2, 13, 9, 1, tzinfo=UTC)) == "sent"
    [message] = mail.outbox
    assert message.subject == "A short questionnaire from Riverside Clinic"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert f"Hello {maintenance.patient.first_name}," in body
        assert "short questionnaire" in body
        assert "/p/" in body
        for clinical in ("PHQ", "mood", "depress", "IPT", "maintenance", "Chris", "relapse"):
            assert clinical.lower() not in body.lower(), clinical
    assert not message.attachments


def test_the_message_is_not_sent_once_answered_or_after_the_course_ends(maintenance, therapist):
    with time_machine.travel(datetime(2027, 2, 13, 0, 30, tzinfo=UTC), tick=False):
        maintenance_checkins_request()
    [row] = _checkins()
    _phq9(maintenance, datetime(2027, 2, 13, 8, 0, tzinfo=UTC))
    assert _send(row, datetime(2027, 2, 13, 9, 1, tzinfo=UTC)) == "cancelled"
    row.refresh_from_db()
    assert row.last_error == "This month's questionnaire is already filled in."

    with time_machine.travel(datetime(2027, 3, 13, 0, 30, tzinfo=UTC), tick=False):
        maintenance_checkins_request()
    march = _checkins()[-1]
    with time_machine.travel(datetime(2027, 3, 13, 8, 0, tzinfo=UTC), tick=False):
        course_drop_out(course=maintenance, by=therapist, reason="Moved away.")
    assert _send(march, datetime(2027, 3, 13, 9, 1, tzinfo=UTC)) == "cancelled"
    assert mail.outbox == []


def _portal(course, therapist) -> Client:
    client = Client()
    link, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(client, url).status_code == 302
    return client


def test_the_portal_shows_the_check_in_as_due_until_it_is_answered(maintenance, therapist):
    with time_machine.travel(datetime(2027, 2, 12, 12, 0, tzinfo=UTC), tick=False):
        client = _portal(maintenance, therapist)
        home = client.get(reverse("portal:home")).content.decode()
        assert "Due this month" not in home
    with time_machine.travel(datetime(2027, 2, 14, 12, 0, tzinfo=UTC), tick=False):
        client = _portal(maintenance, therapist)  # a portal session lasts hours, not days
        home = client.get(reverse("portal:home")).content.decode()
        assert 'id="checkin-due"' in home and "Due this month" in home
        page = client.get(reverse("portal:questionnaire", args=["phq9"]))
        assert page.status_code == 200
    _phq9(maintenance, datetime(2027, 2, 14, 12, 5, tzinfo=UTC))
    with time_machine.travel(datetime(2027, 2, 14, 12, 10, tzinfo=UTC), tick=False):
        home = client.get(reverse("portal:home")).content.decode()
        assert "Due this month" not in home
        assert "Mood questionnaire (PHQ-9)" in home


def test_the_portal_keeps_the_plan_carried_into_maintenance(maintenance, therapist):
    with time_machine.travel(datetime(2027, 1, 20, 12, 0, tzinfo=UTC), tick=False):
        client = _portal(maintenance, therapist)
        home = client.get(reverse("portal:home")).content.decode()
        assert "Your plan for staying well" in home
        plan = client.get(reverse("portal:plan")).content.decode()
    assert "Waking at 4 a.m." in plan and "Call the clinic and book a booster." in plan
