"""Sending one row: exactly one delivery per row, the rules re-checked at send time, transient
failures retried with backoff, permanent ones not."""

import re
import smtplib
from datetime import UTC, time, timedelta

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from notifications import sms
from notifications.content import message_id
from notifications.models import Notification
from notifications.sending import notification_send, notifications_sweep_stuck, retry_delay
from patients.notices import on_portal_link_sent
from sessions import notices
from tests.factories import SessionFactory

from .conftest import claimed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


def _fail_with(monkeypatch, exc):
    """Make the mail backend raise ``exc`` as the SMTP backend would."""
    calls = []

    def send_messages(self, messages):
        calls.append(messages)
        raise exc

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)
    return calls


def test_it_sends_a_reminder_once_and_marks_it_sent(due_reminder):
    row = claimed(due_reminder)
    assert notification_send(row.pk) == "sent"
    assert notification_send(row.pk) == "skipped"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.sent_at is not None
    assert row.lease_until is None


def test_it_never_sends_a_pending_row_that_was_not_dispatched(due_reminder):
    assert notification_send(due_reminder.pk) == "skipped"
    assert mail.outbox == []


def test_it_leaves_a_row_another_sender_is_working_on(due_reminder):
    row = claimed(due_reminder)
    Notification.objects.filter(pk=row.pk).update(attempts=1, attempt_started_at=timezone.now())
    assert notification_send(row.pk) == "skipped"
    assert mail.outbox == []


def test_it_leaves_an_attempt_whose_lease_ran_out_to_the_sweeper(
    due_reminder, enqueued, django_capture_on_commit_callbacks
):
    # The server may have accepted that attempt: only the sweeper, which looks for the
    # acceptance marker first, may reopen the row.
    row = claimed(due_reminder)
    Notification.objects.filter(pk=row.pk).update(
        attempts=1,
        attempt_started_at=timezone.now() - timedelta(minutes=10),
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert notification_send(row.pk) == "skipped"
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_sweep_stuck() == 1
    assert enqueued == [row.pk]
    assert notification_send(row.pk) == "sent"
    row.refresh_from_db()
    assert row.attempts == 2


def test_it_writes_text_html_and_a_calendar_file_without_clinical_content(due_reminder, course):
    from tests.factories import AssignmentFactory

    AssignmentFactory(course=course, title="Talk to your sister about Sunday")
    course.clinic.phone = "020 7946 0000"
    course.clinic.save()
    notification_send(claimed(due_reminder).pk)

    message = mail.outbox[0]
    session = course.sessions.get()
    local = session.scheduled_start.astimezone(course.clinic.tz)
    assert message.to == [course.patient.email]
    assert message.extra_headers["Message-ID"] == message_id(due_reminder)
    assert "Jamie" in message.body
    assert "Riverside Clinic" in message.body
    assert f"{local:%H:%M}" in message.body
    assert "020 7946 0000" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Jamie" in html
    name, ics, ics_type = message.attachments[0]
    assert name == "appointment.ics"
    assert ics_type.startswith("text/calendar")
    assert f"DTSTART:{session.scheduled_start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in ics
    everything = (message.subject + message.body + html + ics).lower()
    assert not re.search(r"\brivers\b", everything)  # the surname
    for clinical in ("sister", "depress", "phq", "phase", "therapy", "homework"):
        assert clinical not in everything


def test_it_cancels_a_reminder_for_a_session_cancelled_after_dispatch(due_reminder, session):
    row = claimed(due_reminder)
    session.status = "cancelled_clinic"
    session.save()
    assert notification_send(row.pk) == "cancelled"
    row.refresh_from_db()
    assert row.status == "cancelled"
    assert mail.outbox == []


def test_it_never_sends_a_reminder_for_a_session_that_has_begun(due_reminder, session):
    row = claimed(due_reminder)
    session.scheduled_start = timezone.now() - timedelta(minutes=1)
    session.save()
    assert notification_send(row.pk) == "cancelled"
    assert mail.outbox == []


def test_it_cancels_when_consent_was_withdrawn(due_reminder, patient):
    row = claimed(due_reminder)
    patient.reminder_consent = False
    patient.save()
    assert notification_send(row.pk) == "cancelled"
    assert mail.outbox == []


def test_it_sends_to_the_address_on_file_now(due_reminder, patient):
    row = claimed(due_reminder)
    patient.email = "new-address@example.org"
    patient.save()
    notification_send(row.pk)
    assert mail.outbox[0].to == ["new-address@example.org"]


def test_it_retries_a_transient_failure_later(due_reminder, monkeypatch):
    _fail_with(monkeypatch, smtplib.SMTPServerDisconnected("connection lost"))
    row = claimed(due_reminder)
    before = timezone.now()
    assert notification_send(row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > before
    assert "connection lost" in row.last_error


def test_it_treats_a_4xx_refusal_as_transient(due_reminder, monkeypatch):
    _fail_with(
        monkeypatch,
        smtplib.SMTPRecipientsRefused({"x@example.org": (451, b"try again later")}),
    )
    assert notification_send(claimed(due_reminder).pk) == "retry"


def test_it_fails_at_once_when_the_address_is_refused(due_reminder, monkeypatch):
    calls = _fail_with(
        monkeypatch,
        smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")}),
    )
    row = claimed(due_reminder)
    assert notification_send(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error
    assert notification_send(row.pk) == "skipped"
    assert len(calls) == 1


def test_it_gives_up_after_the_last_attempt(due_reminder, monkeypatch, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    _fail_with(monkeypatch, ConnectionRefusedError("mail server down"))
    row = claimed(due_reminder)
    assert notification_send(row.pk) == "retry"
    claimed(row)
    assert notification_send(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    assert "Gave up after 2 attempts" in row.last_error


def test_it_backs_off_exponentially_with_jitter(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 3600
    delays = {attempt: {retry_delay(attempt) for _ in range(20)} for attempt in (1, 3, 10)}
    assert all(timedelta(seconds=30) <= d <= timedelta(seconds=60) for d in delays[1])
    assert all(timedelta(seconds=120) <= d <= timedelta(seconds=240) for d in delays[3])
    assert all(timedelta(seconds=1800) <= d <= timedelta(seconds=3600) for d in delays[10])
    assert len(delays[3]) > 1


def _sms_patient(patient):
    patient.preferred_channel = "sms"
    patient.phone = "+447700900123"
    patient.save()


def test_it_sends_a_text_message_through_the_backend(session, patient):
    _sms_patient(patient)
    clinic = patient.clinic
    clinic.quiet_hours_start = clinic.quiet_hours_end = time(0, 0)  # no quiet hours
    clinic.save()
    row = notices.on_session_booked(session)
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert notification_send(claimed(row).pk) == "sent"
    assert len(sms.outbox) == 1
    text = sms.outbox[0]
    assert text.to == "+447700900123"
    assert "Jamie" in text.body
    assert "Riverside Clinic" in text.body
    assert not re.search(r"\bRivers\b", text.body)


def test_it_holds_a_text_message_until_quiet_hours_end(session, patient):
    _sms_patient(patient)
    clinic = patient.clinic
    now_local = timezone.now().astimezone(clinic.tz)
    # Quiet from an hour ago until two hours from now.
    clinic.quiet_hours_start = (now_local - timedelta(hours=1)).time().replace(microsecond=0)
    clinic.quiet_hours_end = (now_local + timedelta(hours=2)).time().replace(microsecond=0)
    clinic.save()
    row = notices.on_session_booked(session)
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert notification_send(claimed(row).pk) == "deferred"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at > timezone.now() + timedelta(hours=1)
    assert sms.outbox == []


def test_it_wipes_the_portal_link_once_sent(course, therapist):
    from patients.models import PortalLink

    link = PortalLink.objects.create(
        clinic=course.clinic, patient=course.patient, token_hash="b" * 64, created_by=therapist
    )
    row = on_portal_link_sent(link, "http://testserver/p/the-secret-token/")
    notification_send(claimed(row).pk)
    assert "http://testserver/p/the-secret-token/" in mail.outbox[0].body
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.payload == {}


def test_it_sends_homework_notices_without_the_homework(course):
    from tests.factories import AssignmentFactory

    assignment = AssignmentFactory(course=course, title="Talk to your sister about Sunday")
    new, due = notices.on_assignment_set(assignment)
    assert notification_send(claimed(new).pk) == "sent"
    body = mail.outbox[0].body + mail.outbox[0].alternatives[0][0]
    assert "sister" not in body
    assert "rehearsed" not in body


def test_it_cancels_homework_notices_once_the_homework_is_done(course):
    from tests.factories import AssignmentFactory

    assignment = AssignmentFactory(course=course)
    new, due = notices.on_assignment_set(assignment)
    claimed(new)
    assignment.status = "done"
    assignment.save()
    assert notification_send(new.pk) == "cancelled"


def test_it_replaces_a_kept_mail_connection_the_server_dropped(due_reminder):
    from notifications import sending as notifications

    class DeadSmtp:
        def noop(self):
            raise smtplib.SMTPServerDisconnected("the server hung up while we were idle")

    class KeptConnection:
        connection = DeadSmtp()
        closed = False

        def close(self):
            KeptConnection.closed = True

        def send_messages(self, messages):
            raise AssertionError("sent on a dead connection")

    notifications._mail.connection = KeptConnection()
    notifications._mail.used_at = 0.0
    try:
        assert notification_send(claimed(due_reminder).pk) == "sent"
    finally:
        notifications._drop_mail_connection()
    assert KeptConnection.closed
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_it_keeps_sending_after_the_database_connection_is_replaced(course):
    """On PostgreSQL the claim and the "sent" mark are prepared statements kept per
    connection: a worker whose connection was dropped (restart, CONN_MAX_AGE) prepares them
    again on the new one, and a row is still sent once."""
    from django.db import connection

    first, second = (
        claimed(notices.on_session_booked(SessionFactory(course=course, scheduled_start=start)))
        for start in (timezone.now() + timedelta(hours=30), timezone.now() + timedelta(hours=31))
    )
    assert notification_send(first.pk) == "sent"
    connection.close()
    assert notification_send(second.pk) == "sent"
    assert notification_send(first.pk) == notification_send(second.pk) == "skipped"
    assert len(mail.outbox) == 2
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_it_cancels_a_staff_mail_of_a_kind_no_app_registers(clinic):
    row = Notification.objects.create(
        clinic=clinic,
        patient=None,
        kind="staff_unknown",
        channel="email",
        recipient="someone@example.org",
        about_type="staff_user",
        about_id=1,
        due_at=timezone.now(),
        dedupe_key="staff_user:1:staff_unknown:email:1",
    )
    assert notification_send(claimed(row).pk) == "cancelled"
    row.refresh_from_db()
    assert "staff_unknown" in row.last_error
    assert mail.outbox == []
