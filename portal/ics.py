"""One appointment as an iCalendar file (RFC 5545): times in UTC, no clinical content."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sessions.models import Modality, TherapySession

# Neutral on purpose: a calendar may be shared, and "IPT" names a treatment.
PRODID = "-//Clinic portal//Appointments//EN"
WHERE = {
    Modality.IN_PERSON: gettext_lazy("At the clinic"),
    Modality.VIDEO: gettext_lazy("Video call"),
    Modality.PHONE: gettext_lazy("Phone call"),
}


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold content lines longer than 75 octets (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        limit = 75 if not parts else 74  # continuation lines start with a space
        if len(current) + len(piece) > limit:
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_ics(session: TherapySession, clinic_name: str) -> str:
    start = session.scheduled_start
    end = start + timedelta(minutes=session.duration_minutes)
    host = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    summary = _("Appointment with %(clinic)s") % {"clinic": clinic_name}
    where = WHERE.get(session.modality, WHERE[Modality.IN_PERSON])
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:session-{session.pk}@{host}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(str(where))}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
