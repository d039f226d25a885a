"""Reminders over SMTP to a real server, as the worker sends them (the bytes of
``NotificationEmail.smtp_bytes()`` through smtplib on the kept connection): what arrives, what
a refusal does to the row, and that the kept connection carries the next message after one.

Each test runs against the test receiver the fault proofs and the benchmark use
(tests/notifications/harness.py, written for little CPU per message) and against aiosmtpd, the
library it stands in for: both must see the same thing."""

import pytest
from django.utils import timezone

from notifications.content import message_id
from notifications.models import Notification
from notifications.sending import notification_send
from sessions import notices
from tests.factories import SessionFactory
from tests.notifications.harness import AiosmtpdReceiver, SmtpReceiver

from .conftest import claimed, smtp_to

pytestmark = pytest.mark.django_db

REFUSALS = {
    "nobody@example.org": "550 5.1.1 No such user",
    "later@example.org": "451 4.3.0 Try again later",
}


@pytest.fixture(params=[SmtpReceiver, AiosmtpdReceiver], ids=["harness", "aiosmtpd"])
def receiver(request, settings):
    from notifications import sending

    receiver = request.param(refuse=REFUSALS).start()
    smtp_to(settings, receiver.port)
    yield receiver
    sending._drop_mail_connection()
    receiver.stop()


def _reminder(course, hours: int, email: str | None = None) -> Notification:
    if email is not None:
        course.patient.email = email
        course.patient.save()
    start = timezone.now() + timezone.timedelta(hours=hours)
    return claimed(notices.on_session_booked(SessionFactory(course=course, scheduled_start=start)))


def _sent(row: Notification) -> str:
    outcome = notification_send(row.pk)
    row.refresh_from_db()
    return outcome


def test_reminders_arrive_one_after_another_on_the_kept_connection(receiver, course):
    rows = [_reminder(course, 30 + n) for n in range(3)]
    assert [_sent(row) for row in rows] == ["sent"] * 3
    assert dict(receiver.accepted) == {message_id(row): 1 for row in rows}
    first = receiver.messages[0]
    assert first["To"] == course.patient.email
    assert first.get_content_type() == "multipart/mixed"
    [calendar] = [part for part in first.walk() if part.get_content_type() == "text/calendar"]
    assert b"BEGIN:VCALENDAR" in calendar.get_payload(decode=True)


def test_a_refused_address_fails_the_row_and_the_next_reminder_still_goes(receiver, course):
    refused = _reminder(course, 30, email="nobody@example.org")
    assert _sent(refused) == "failed"
    assert refused.last_error.startswith("Address refused: 550")
    going = _reminder(course, 31, email="robin@example.org")
    assert _sent(going) == "sent"
    assert receiver.total == 1


def test_a_deferred_address_is_tried_again_later(receiver, course):
    deferred = _reminder(course, 30, email="later@example.org")
    assert _sent(deferred) == "retry"
    assert (deferred.status, deferred.next_attempt_at is not None) == ("pending", True)
    assert receiver.total == 0


def test_a_message_refused_after_data_is_tried_again_and_the_connection_carries_on(
    receiver, course
):
    receiver.data_replies = ["451 4.3.0 Queue full"]
    first, second = _reminder(course, 30), _reminder(course, 31)
    assert _sent(first) == "retry"
    assert _sent(second) == "sent"
    assert len(receiver.seen) == 2
    assert receiver.total == 1


def test_lines_starting_with_a_dot_arrive_unchanged(receiver, course):
    course.clinic.name = ".Riverside"
    course.clinic.save()
    assert _sent(_reminder(course, 30)) == "sent"
    plain = next(
        part for part in receiver.messages[0].walk() if part.get_content_type() == "text/plain"
    )
    # The clinic's name stands alone on a line of the text: sent as "..Riverside", read back
    # as it was written.
    assert "\n.Riverside\n" in plain.get_payload(decode=True).decode().replace("\r\n", "\n")
