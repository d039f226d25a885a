"""The outbox hooks write, move and cancel rows in the caller's transaction."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from patients.notices import on_portal_link_sent
from sessions import notices
from tests.factories import AssignmentFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _rows(**filters):
    return list(Notification.objects.filter(**filters).order_by("id"))


def test_it_writes_a_reminder_lead_hours_before_the_session(course):
    start = timezone.now() + timedelta(days=3)
    session = SessionFactory(course=course, scheduled_start=start)

    row = notices.on_session_booked(session)

    assert row.kind == "session_reminder"
    assert row.channel == "email"
    assert row.recipient == course.patient.email
    assert row.status == "pending"
    assert row.clinic_id == course.clinic_id
    assert row.due_at == start - timedelta(hours=24)


def test_it_follows_the_clinics_lead_time(course):
    course.clinic.reminder_lead_hours = 2
    course.clinic.save()
    start = timezone.now() + timedelta(days=1)
    row = notices.on_session_booked(SessionFactory(course=course, scheduled_start=start))
    assert row.due_at == start - timedelta(hours=2)


def test_it_makes_a_reminder_due_at_once_inside_the_lead_time(course):
    before = timezone.now()
    session = SessionFactory(course=course, scheduled_start=before + timedelta(hours=3))
    row = notices.on_session_booked(session)
    assert before <= row.due_at <= timezone.now()


def test_it_writes_one_row_however_often_the_hook_runs(course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=3))
    notices.on_session_booked(session)
    notices.on_session_booked(session)
    assert len(_rows(about_type="session", about_id=session.pk)) == 1


def test_it_moves_the_reminder_when_the_session_is_rescheduled(course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    old = notices.on_session_booked(session)
    session.scheduled_start += timedelta(days=2)
    session.save()

    new = notices.on_session_rescheduled(session)

    old.refresh_from_db()
    assert old.status == "cancelled"
    assert new.status == "pending"
    assert new.due_at == session.scheduled_start - timedelta(hours=24)
    assert new.dedupe_key != old.dedupe_key


def test_it_revives_the_old_reminder_when_moved_back(course):
    start = timezone.now() + timedelta(days=3)
    session = SessionFactory(course=course, scheduled_start=start)
    first = notices.on_session_booked(session)
    session.scheduled_start = start + timedelta(days=1)
    notices.on_session_rescheduled(session)
    session.scheduled_start = start
    again = notices.on_session_rescheduled(session)

    assert again.pk == first.pk
    assert again.status == "pending"
    assert [r.status for r in _rows(about_id=session.pk)].count("pending") == 1


def test_it_cancels_the_reminder_of_a_cancelled_session(course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    row = notices.on_session_booked(session)
    notices.on_session_cancelled(session)
    row.refresh_from_db()
    assert row.status == "cancelled"
    assert row.last_error == "Session cancelled."


def test_it_writes_nothing_for_a_session_in_the_past(course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    assert notices.on_session_booked(session) is None
    assert not _rows()


def test_it_writes_nothing_without_consent(course):
    course.patient.reminder_consent = False
    course.patient.save()
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    assert notices.on_session_booked(session) is None
    assert not _rows()


def test_it_writes_nothing_without_a_contact_for_the_preferred_channel(course):
    course.patient.preferred_channel = "sms"
    course.patient.phone = ""
    course.patient.save()
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    assert notices.on_session_booked(session) is None


def test_it_uses_the_preferred_channel(course):
    course.patient.preferred_channel = "sms"
    course.patient.phone = "+447700900123"
    course.patient.save()
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    row = notices.on_session_booked(session)
    assert (row.channel, row.recipient) == ("sms", "+447700900123")


def test_it_moves_a_text_message_out_of_quiet_hours(course):
    clinic = course.clinic
    clinic.time_zone = "Europe/London"
    clinic.quiet_hours_start, clinic.quiet_hours_end = time(21, 0), time(8, 0)
    clinic.reminder_lead_hours = 10
    clinic.save()
    course.patient.preferred_channel = "sms"
    course.patient.phone = "+447700900123"
    course.patient.save()
    london = ZoneInfo("Europe/London")
    day = (timezone.now() + timedelta(days=5)).astimezone(london).date()
    # A 09:00 session, 10 hours' lead: the reminder would fall at 23:00 the evening before.
    start = datetime.combine(day + timedelta(days=1), time(9, 0), tzinfo=london)
    row = notices.on_session_booked(SessionFactory(course=course, scheduled_start=start))
    expected = datetime.combine(day + timedelta(days=1), time(8, 0), tzinfo=london)
    assert row.due_at.astimezone(london) == expected


def test_it_writes_new_homework_now_and_due_tomorrow_at_nine(course):
    london = ZoneInfo("Europe/London")
    due_date = timezone.now().astimezone(london).date() + timedelta(days=6)
    assignment = AssignmentFactory(course=course, due_date=due_date)

    rows = notices.on_assignment_set(assignment)

    kinds = {row.kind: row for row in rows}
    assert set(kinds) == {"homework_new", "homework_due"}
    assert kinds["homework_new"].due_at <= timezone.now()
    assert kinds["homework_due"].due_at == datetime.combine(
        due_date - timedelta(days=1), time(9, 0), tzinfo=london
    )


def test_it_skips_due_tomorrow_for_homework_due_today(course):
    today = timezone.now().astimezone(course.clinic.tz).date()
    rows = notices.on_assignment_set(AssignmentFactory(course=course, due_date=today))
    assert [row.kind for row in rows] == ["homework_new"]


def test_it_cancels_homework_notices_when_homework_is_closed(course):
    assignment = AssignmentFactory(course=course)
    notices.on_assignment_set(assignment)
    notices.on_assignment_closed(assignment)
    assert {row.status for row in _rows(about_type="assignment")} == {"cancelled"}


def test_it_writes_a_portal_link_notice_once_per_minute(course, therapist):
    from patients.models import PortalLink

    link = PortalLink.objects.create(
        clinic=course.clinic, patient=course.patient, token_hash="a" * 64, created_by=therapist
    )
    first = on_portal_link_sent(link, "http://testserver/p/secret-token/")
    second = on_portal_link_sent(link, "http://testserver/p/secret-token/")
    assert first.pk == second.pk
    assert first.kind == "portal_link"
    assert first.payload == {"url": "http://testserver/p/secret-token/"}


def test_it_leaves_nothing_when_the_cause_rolls_back(course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=3))
    with pytest.raises(RuntimeError), transaction.atomic():
        notices.on_session_booked(session)
        raise RuntimeError("the booking failed after the hook ran")
    assert not _rows()


def test_it_keys_rows_by_what_kind_channel_and_due_time(course):
    start = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    session = SessionFactory(course=course, scheduled_start=start)
    row = notices.on_session_booked(session)
    assert row.dedupe_key == f"session:{session.pk}:session_reminder:email:20310303T100000Z"
