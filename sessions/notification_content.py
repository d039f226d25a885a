"""What a notification says. No clinical content, ever: the patient's first name, a date and
time in the clinic's time zone, the clinic's name and phone, a link to the portal. Homework
titles, instructions, phases and scores never appear in a message.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .models import Assignment, Notification, NotificationKind, TherapySession

SUBJECTS = {
    NotificationKind.SESSION_REMINDER: "Reminder: your appointment on {when}",
    NotificationKind.HOMEWORK_NEW: "Something new for you from {clinic}",
    NotificationKind.HOMEWORK_DUE: "A reminder from {clinic}",
    NotificationKind.PORTAL_LINK: "Your personal link from {clinic}",
}


@dataclass
class Content:
    subject: str
    text: str
    html: str
    sms: str
    ics: str | None = None


def portal_url() -> str:
    try:
        path = reverse("portal:home")
    except NoReverseMatch:
        path = "/p/"
    return f"{settings.SITE_URL}{path}"


def message_id(notification: Notification) -> str:
    """One Message-ID per row, derived from its dedupe key: a retry or a redelivery carries
    the same id, so a duplicate can be recognised by whoever receives it."""
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:40]
    domain = urlsplit(settings.SITE_URL).hostname or "ipt-clinic.invalid"
    return f"<notice-{digest}@{domain}>"


def _when(moment: datetime, tz) -> str:
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def session_ics(session: TherapySession, clinic, uid: str) -> str:
    """A one-event calendar (RFC 5545): times in UTC, summary without clinical words."""
    start = session.scheduled_start.astimezone(UTC)
    end = start + timedelta(minutes=session.duration_minutes)
    stamp = timezone.now().astimezone(UTC)

    def fmt(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    def escape(text: str) -> str:
        return (
            text.replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,").replace("\n", r"\n")
        )

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//IPT Clinic//Reminders//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{fmt(stamp)}",
        f"DTSTART:{fmt(start)}",
        f"DTEND:{fmt(end)}",
        f"SUMMARY:{escape(f'Appointment at {clinic.name}')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def render(notification: Notification, *, session=None, assignment=None) -> Content:
    """Render the subject, plain text, HTML and SMS body of one row."""
    clinic = notification.clinic
    tz = clinic.tz
    context = {
        "first_name": notification.patient.first_name,
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "portal_url": notification.payload.get("url") or portal_url(),
        "kind": notification.kind,
    }
    when = ""
    ics = None
    if notification.kind == NotificationKind.SESSION_REMINDER and session is not None:
        when = _when(session.scheduled_start, tz)
        context["when"] = when
        ics = session_ics(session, clinic, uid=f"session-{session.pk}@ipt-clinic")
    if notification.kind == NotificationKind.HOMEWORK_DUE and assignment is not None:
        due = assignment.due_date
        context["due_day"] = f"{due:%A} {due.day} {due:%B}"
    template = f"notifications/{notification.kind}"
    return Content(
        subject=SUBJECTS[notification.kind].format(when=when, clinic=clinic.name),
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        sms=" ".join(
            render_to_string(f"notifications/sms/{notification.kind}.txt", context).split()
        ),
        ics=ics,
    )


def sender(clinic) -> str:
    if clinic.sender_email:
        return formataddr((clinic.sender_name or clinic.name, clinic.sender_email))
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((clinic.sender_name or name or clinic.name, address))


def email_message(notification: Notification, content: Content) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        from_email=sender(notification.clinic),
        to=[notification.recipient],
        headers={
            "Message-ID": message_id(notification),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(content.html, "text/html")
    if content.ics:
        message.attach("appointment.ics", content.ics, "text/calendar; method=PUBLISH")
    return message


def load_subject(notification: Notification) -> tuple[TherapySession | None, Assignment | None]:
    """The session or homework a row is about (None when it is about something else)."""
    if notification.about_type == "session":
        return TherapySession.objects.filter(pk=notification.about_id).first(), None
    if notification.about_type == "assignment":
        return None, Assignment.objects.filter(pk=notification.about_id).first()
    return None, None
