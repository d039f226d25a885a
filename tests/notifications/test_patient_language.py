"""A patient's notices in the patient's language (issue 23, point 6); staff alerts and an
English patient's notices as before."""

from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.utils import translation

from notifications.content import PORTAL_LINK_ASKED, render
from notifications.models import Notification
from notifications.registry import Delivery
from patients.models import Language
from sessions import notices

from .conftest import claimed

pytestmark = pytest.mark.django_db

# Wednesday 16 December 2026, 14:30 in London (GMT).
START = datetime(2026, 12, 16, 14, 30, tzinfo=UTC)


def _reminder(row: Notification) -> Delivery:
    return Delivery(
        recipient=row.recipient,
        first_name="Jamie",
        starts_at=START,
        duration_minutes=50,
        calendar_uid="session-1@clinic.example",
    )


def _speaking(patient, language):
    patient.language = language
    patient.save(update_fields=["language"])


def test_a_spanish_patients_reminder_is_in_spanish(due_reminder):
    _speaking(due_reminder.patient, Language.SPANISH)
    row = claimed(due_reminder)
    content = render(row, _reminder(row))

    when = "miércoles 16 de diciembre de 2026 a las 14:30"
    assert content.subject == f"Recordatorio: su cita el {when}"
    assert content.text.startswith("Hola, Jamie:\n")
    assert f"Le recordamos su cita con {row.clinic.name} el {when}." in content.text
    assert "Este es un mensaje automático; las respuestas no se leen." in content.text
    assert '<html lang="es">' in content.html
    assert f"el <strong>{when}</strong>" in content.html
    assert ">Abrir su portal</a>" in content.html
    assert content.sms.startswith("Hola, Jamie. Recordatorio: su cita con")
    assert f"SUMMARY:Cita en {row.clinic.name}" in content.ics.replace("\r\n ", "")
    for english in ("Hello", "reminder", "appointment", "Open your portal", "automatic"):
        assert english not in content.text + content.html + content.sms, english
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_an_english_patients_reminder_is_as_before(due_reminder):
    row = claimed(due_reminder)
    content = render(row, _reminder(row))

    when = "Wednesday 16 December 2026 at 14:30"
    assert content.subject == f"Reminder: your appointment on {when}"
    assert content.text.startswith("Hello Jamie,\n")
    assert f"This is a reminder of your appointment with {row.clinic.name} on {when}." in (
        content.text
    )
    assert '<html lang="en-gb">' in content.html
    assert f"on <strong>{when}</strong>" in content.html
    assert content.sms.startswith(f"Hi Jamie, reminder: your appointment with {row.clinic.name}")


def test_a_spanish_patients_homework_reminder_names_the_day_in_spanish(course):
    _speaking(course.patient, Language.SPANISH)
    row = Notification(
        clinic=course.clinic,
        patient=course.patient,
        kind=notices.HOMEWORK_DUE,
        channel="email",
        recipient=course.patient.email,
    )
    content = render(
        row, Delivery(recipient=row.recipient, first_name="Jamie", due_date=date(2026, 12, 17))
    )
    assert content.subject == f"Un recordatorio de {course.clinic.name}"
    assert "es para mañana, jueves 17 de diciembre." in content.text
    assert "es para mañana." in content.sms


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_new_link_asked_for_is_sent_in_the_patients_language(course, channel):
    _speaking(course.patient, Language.SPANISH)
    course.clinic.phone = "020 7946 0000"
    course.clinic.save(update_fields=["phone"])
    row = Notification(
        clinic=course.clinic,
        patient=course.patient,
        kind=PORTAL_LINK_ASKED,
        channel=channel,
        recipient=course.patient.email,
    )
    url = "https://portal.example/p/new-link/"
    content = render(row, Delivery(recipient=row.recipient, first_name="Jamie", url=url))
    clinic = course.clinic.name

    assert content.subject == f"Su nuevo enlace personal de {clinic}"
    assert f"Usted pidió un nuevo enlace personal al portal de {clinic}." in content.html
    assert "Su enlace anterior ya no funciona." in content.text
    assert f"Si usted no lo pidió, llame a {clinic} al 020 7946 0000." in content.text
    assert content.sms == (
        f"Hola, Jamie. Este es el nuevo enlace al portal de {clinic} que pidió (no lo "
        f"comparta; el anterior ya no funciona): {url}"
    )
    for english in ("asked", "earlier link", "Keep", "Hello"):
        assert english not in content.text + content.html + content.sms, english


def test_a_staff_alert_stays_in_the_clinics_language_whatever_the_patients(course):
    _speaking(course.patient, Language.SPANISH)
    row = Notification(
        clinic=course.clinic,
        patient=course.patient,
        kind="risk_alert",
        channel="email",
        recipient="therapist@clinic.example",
    )
    with translation.override("es"):  # even inside a Spanish request
        content = render(row, Delivery(recipient=row.recipient, first_name="", url="https://x/"))
    assert content.subject == "A patient's answers need review today"
    assert "This is an automatic message; replies are not read." in content.text
