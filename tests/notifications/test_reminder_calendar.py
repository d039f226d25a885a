"""A session reminder as the patient receives it: nothing in its headers, its text, its HTML or
its calendar file says what kind of appointment it is (issue 21, point 11), and the calendar
file holds the appointment whatever the clinic is called."""

import re
from datetime import UTC, timedelta

import icalendar
import pytest
from django.utils import timezone

from notifications import registry
from notifications.content import render
from notifications.sending import notification_send

from .conftest import claimed

pytestmark = pytest.mark.django_db

# Words a shared inbox or calendar must never show: the treatment's name and its field.
# "IPT" also as the product's name ("IPT Clinic"), in any case, as a word of its own.
TREATMENT_WORDS = re.compile(
    r"\bipt\b|therap|psycho|psychiatr|interpersonal|depress|phq|counsel", re.IGNORECASE
)


def _texts(message) -> list[str]:
    """Every header (name and value) and every decoded body part of ``message``."""
    texts = []
    for part in message.walk():
        texts += [f"{name}: {value}" for name, value in part.items()]
        payload = part.get_payload(decode=True)
        if payload is not None:
            texts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return texts


def test_no_part_of_a_reminder_names_the_treatment(settings, mail_server, due_reminder):
    # The product's own name in the process-wide sender, as the default settings have it: the
    # clinic's name goes out instead.
    settings.DEFAULT_FROM_EMAIL = "IPT Clinic <no-reply@clinic.example>"
    mail_server.start()
    assert notification_send(claimed(due_reminder).pk) == "sent"

    [message] = mail_server.messages
    calendar = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(calendar) == 1  # the attachment is there, and read with the rest
    texts = _texts(message)
    assert any("PRODID" in text for text in texts)
    named = [match.group() for text in texts for match in TREATMENT_WORDS.finditer(text)]
    assert named == []
    assert message["From"] == f"{due_reminder.clinic.name} <no-reply@clinic.example>"


def test_the_calendar_file_holds_the_appointment_whatever_the_clinic_is_called(
    due_reminder, session
):
    clinic = due_reminder.clinic
    clinic.name = "Clínica Ñandú, Centro; Salud Mental Comunitaria del Barrio Norte y Sur"
    clinic.save()
    row = claimed(due_reminder)
    delivery = registry.kind(row.kind).compose(row, timezone.now())

    ics = render(row, delivery).ics

    lines = ics.encode().split(b"\r\n")
    assert lines[-1] == b""  # every line, the last too, ends with CRLF
    assert all(len(line) <= 75 for line in lines)  # RFC 5545 3.1: folded past 75 octets
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    start = session.scheduled_start.astimezone(UTC).replace(microsecond=0)  # to the second
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=session.duration_minutes)
    assert str(event["SUMMARY"]) == f"Appointment at {clinic.name}"
    assert str(event["UID"]) == f"session-{session.pk}@127.0.0.1"


@pytest.mark.parametrize(
    "name",
    [
        "Northgate Service",
        "Clínica Ñandú, Centro; Salud Mental Comunitaria del Barrio Norte y Sur — 東京",
        'A back\\slash, a "quote"\nand a new line',
        "x" * 200,
    ],
)
def test_it_writes_the_file_icalendar_would_write(name):
    """The hand-written file (kept for its speed, see appointment_ics) read back by the
    icalendar library is the event icalendar itself builds from the same values."""
    from types import SimpleNamespace

    from notifications.content import CALENDAR_PRODID, appointment_ics

    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    ours = icalendar.Calendar.from_ical(
        appointment_ics(start, 50, SimpleNamespace(name=name), "session-7@clinic.example")
    )
    theirs = icalendar.Calendar()
    theirs.add("prodid", CALENDAR_PRODID)
    theirs.add("version", "2.0")
    theirs.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", "session-7@clinic.example")
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", start.astimezone(UTC) + timedelta(minutes=50))
    event.add("summary", f"Appointment at {name}")
    theirs.add_component(event)
    theirs = icalendar.Calendar.from_ical(theirs.to_ical())

    for key in ("PRODID", "VERSION", "METHOD"):
        assert str(ours[key]) == str(theirs[key])
    [mine], [built] = ours.walk("VEVENT"), theirs.walk("VEVENT")
    for key in ("UID", "SUMMARY"):
        assert str(mine[key]) == str(built[key]), key
    for key in ("DTSTART", "DTEND"):
        assert mine.decoded(key) == built.decoded(key), key
