"""The notice's SMTP bytes, written without the email package, read back by it: the same
headers, parts and attachment as the message Django would have serialised."""

from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from notifications import registry
from notifications.content import NotificationEmail, email_message, render
from notifications.sending import _envelope_address

from .conftest import claimed

pytestmark = pytest.mark.django_db


def _parsed(message: NotificationEmail):
    raw = message.smtp_bytes()
    assert raw is not None
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    return message_from_bytes(raw, policy=policy.default)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _reminder(due_reminder, session) -> NotificationEmail:
    row = claimed(due_reminder)
    delivery = registry.kind(row.kind).compose(row, timezone.now())
    assert delivery.starts_at == session.scheduled_start
    return email_message(row, render(row, delivery))


def test_it_writes_the_same_parts_as_django(due_reminder, session):
    message = _reminder(due_reminder, session)
    parsed = _parsed(message)
    django = message_from_bytes(message.message().as_bytes(), policy=policy.default)

    for header in ("Subject", "From", "To", "Message-ID", "Auto-Submitted"):
        assert parsed[header] == django[header], header
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in parsed.walk()] == [
        part.get_content_type() for part in django.walk()
    ]
    for kind in ("plain", "html"):
        assert _lf(parsed.get_body((kind,)).get_content()) == _lf(
            django.get_body((kind,)).get_content()
        )
    (attachment,) = parsed.iter_attachments()
    (expected,) = django.iter_attachments()
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert _lf(attachment.get_content()) == _lf(expected.get_content())


def test_it_encodes_names_that_are_not_ascii(due_reminder, session, patient):
    patient.first_name = "Zoë"
    patient.save()
    clinic = patient.clinic
    clinic.sender_name = "Clínica Ñandú"
    clinic.save()
    due_reminder.refresh_from_db()
    message = _reminder(due_reminder, session)
    message.subject = "Recordatorio de la Clínica Ñandú, " + "con un nombre bastante largo " * 4
    parsed = _parsed(message)
    assert parsed["Subject"] == message.subject
    assert "Zoë" in parsed.get_body(("plain",)).get_content()
    assert "Zoë" in parsed.get_body(("html",)).get_content()
    assert parsed["From"].addresses[0].display_name.startswith("Clínica Ñandú")


def test_it_leaves_to_django_what_it_does_not_handle(due_reminder, session):
    message = _reminder(due_reminder, session)
    message.to = ["zoë@example.org"]
    assert message.smtp_bytes() is None
    message = _reminder(due_reminder, session)
    message.cc = ["someone@example.org"]
    assert message.smtp_bytes() is None
    message = _reminder(due_reminder, session)
    message.body = "x" * 1200
    assert message.smtp_bytes() is None


def test_it_prepares_envelope_addresses_as_the_smtp_backend_does_once_each():
    from django.core.mail.backends.smtp import EmailBackend

    class Connection:
        calls = 0

        def prep_address(self, address):
            self.calls += 1
            return EmailBackend.prep_address(self, address)

    connection = Connection()
    for _ in range(2):
        assert _envelope_address(connection, "Clinic <clinic@bücher.example>") == (
            "clinic@xn--bcher-kva.example"
        )
    assert connection.calls == 1
    with pytest.raises(ValueError, match="Invalid address"):
        _envelope_address(connection, "not an address\r\nBcc: x@example.org")
