"""What a notification says. No clinical content, ever: the patient's first name, a date and
time in the clinic's time zone, the clinic's name and phone, a link to the portal. Homework
titles, instructions, phases and scores never appear in a message.

A patient's notice is worded in the patient's language (``Patient.language``, the portal's
catalogue in locale/); a staff alert in the clinic's (settings.LANGUAGE_CODE).
"""

import hashlib
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from html import escape as escape_html
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import get_language, gettext, gettext_noop

from .models import Notification
from .registry import Delivery

# The kinds registered by the apps above (``notifications.registry``) whose words are here.
SESSION_REMINDER = "session_reminder"
HOMEWORK_NEW = "homework_new"
HOMEWORK_DUE = "homework_due"
PORTAL_LINK = "portal_link"
PORTAL_LINK_ASKED = "portal_link_asked"
MAINTENANCE_CHECKIN = "maintenance_checkin"
# Alerts to staff about a patient's safety: no name, no clinical content, only a link to the
# flag, which opens after login.
RISK_ALERT = "risk_alert"
RISK_ESCALATION = "risk_escalation"
STAFF_ALERT_WORDS = {
    RISK_ALERT: "A patient's answers need review today",
    RISK_ESCALATION: "Still not acknowledged: a patient's answers need review today",
}

# Patients' subjects, translated into the active language when used (``render`` activates
# the patient's); the staff alerts' are not translated.
SUBJECTS = {
    SESSION_REMINDER: gettext_noop("Reminder: your appointment on %(when)s"),
    HOMEWORK_NEW: gettext_noop("Something new for you from %(clinic)s"),
    HOMEWORK_DUE: gettext_noop("A reminder from %(clinic)s"),
    PORTAL_LINK: gettext_noop("Your personal link from %(clinic)s"),
    MAINTENANCE_CHECKIN: gettext_noop("A short questionnaire from %(clinic)s"),
    PORTAL_LINK_ASKED: gettext_noop("Your new personal link from %(clinic)s"),
    **{kind: words for kind, words in STAFF_ALERT_WORDS.items()},
}

# The words' translations, remembered per language. Every message a sender words looks up
# the same few catalogue entries (a reminder: about twenty), and each ``gettext`` walks the
# active catalogue's chain of fallbacks: remembered, a reminder sent over SMTP took 3.56
# against 2.99 million instructions in the sending process (callgrind, one process on
# PostgreSQL, 100 sends each way; issue 18, where make bench's delivery missed its target).
# Forgotten whenever Django drops its own catalogues (a test changing the languages).
_translated: dict[tuple, str] = {}


# The language ``render`` words a message in, set with it: the words' lookups read it here
# rather than asking Django's translation machinery (thread- and task-local) each time.
_wording_language: ContextVar[str | None] = ContextVar("notice_wording_language", default=None)


@contextmanager
def _wording_in(language: str):
    """Django's ``translation.override(language)``, the language also kept for ``_``."""
    with translation.override(language):
        token = _wording_language.set(get_language())
        try:
            yield
        finally:
            _wording_language.reset(token)


def _(message: str) -> str:
    """``gettext(message)`` in the active language, remembered."""
    key = (_wording_language.get() or get_language(), message)
    translated = _translated.get(key)
    if translated is None:
        translated = _translated[key] = gettext(message)
    return translated


def _date_name(names: dict, index: int) -> str:
    """A weekday's or month's name (``django.utils.dates``) in the active language,
    remembered."""
    key = (_wording_language.get() or get_language(), id(names), index)
    translated = _translated.get(key)
    if translated is None:
        translated = _translated[key] = str(names[index])
    return translated


@receiver(setting_changed)
def _forget_translations(*, setting, **kwargs) -> None:
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _translated.clear()


def has_words(kind: str) -> bool:
    """Whether this module words notices of ``kind`` (checked when a kind registers)."""
    return kind in SUBJECTS


@dataclass
class Content:
    subject: str
    text: str
    html: str
    sms: str
    ics: str | None = None


_portal_urls: dict[tuple, str] = {}


def portal_url() -> str:
    """The portal's address; resolved once per site URL, script prefix and URLconf (a sender
    would otherwise walk the URL resolver for every message)."""
    key = (settings.SITE_URL, get_script_prefix(), get_urlconf())
    url = _portal_urls.get(key)
    if url is None:
        try:
            path = reverse("portal:home")
        except NoReverseMatch:
            path = "/p/"
        url = _portal_urls[key] = f"{settings.SITE_URL}{path}"
    return url


def message_id(notification: Notification) -> str:
    """One Message-ID per row, derived from its unique dedupe key: every attempt, retry or
    redelivery of the row carries the same id, so whoever receives a repeat can drop it. A
    new copy of a staff mail is a new row, with a new key and id."""
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:40]
    domain = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    return f"<notice-{digest}@{domain}>"


def _when(moment: datetime, tz) -> str:
    local = moment.astimezone(tz)
    return _("%(weekday)s %(day)s %(month)s %(year)s at %(time)s") % {
        "weekday": _date_name(WEEKDAYS, local.weekday()),
        "day": local.day,
        "month": _date_name(MONTHS, local.month),
        "year": local.year,
        "time": f"{local:%H:%M}",
    }


def _due_day(due) -> str:
    return _("%(weekday)s %(day)s %(month)s") % {
        "weekday": _date_name(WEEKDAYS, due.weekday()),
        "day": due.day,
        "month": _date_name(MONTHS, due.month),
    }


# Neutral on purpose, as the portal's own calendar file: a calendar may be shared or synced
# to other devices, and a product id naming the treatment would say what the appointment is.
CALENDAR_PRODID = "-//Clinic reminders//EN"


def _ics_text(text: str) -> str:
    """An iCalendar TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline
    escaped."""
    return text.replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,").replace("\n", r"\n")


def _ics_fold(line: str) -> str:
    """One content line folded as RFC 5545 3.1 asks: at most 75 octets a line, a multi-octet
    character never split, each continuation starting with a space."""
    if len(line) <= 18 or len(line.encode()) <= 75:  # 18 characters are at most 72 octets
        return line
    parts, current, size, limit = [], [], 0, 75
    for character in line:
        octets = len(character.encode())
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # the continuation's leading space is one octet
        current.append(character)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(starts_at: datetime, duration_minutes: int, clinic, uid: str) -> str:
    """A one-event calendar (RFC 5545): times in UTC, a summary without clinical words.

    Written out here rather than by the icalendar library, because every session reminder
    carries one: icalendar took 0.29-0.31 ms a file against 0.02-0.03 ms for these lines
    (10-15x, measured side by side in one process), about a tenth of a sender's CPU per
    message, on a delivery whose bench target (half the no-op task's rate) it met by a few
    points. tests/notifications/test_reminder_calendar.py reads every file back with
    icalendar and compares it with the same event built by icalendar itself."""
    start = starts_at.astimezone(UTC)
    summary = _("Appointment at %(clinic)s") % {"clinic": clinic.name}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{CALENDAR_PRODID}",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        _ics_fold(f"UID:{_ics_text(uid)}"),
        f"DTSTAMP:{_ics_time(timezone.now())}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(start + timedelta(minutes=duration_minutes))}",
        _ics_fold(f"SUMMARY:{_ics_text(summary)}"),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


FOOTER_TEXT = gettext_noop("This is an automatic message; replies are not read.")


def _text(kind: str, first_name: str, clinic: str, phone: str, url: str, when: str, due: str):
    """The plain-text body. Written out rather than rendered from a template: a send spends
    its time on the database and the mail server, not on a template engine."""
    values = {"clinic": clinic, "phone": phone, "url": url, "when": when, "due": due}
    lines = [_("Hello %(first_name)s,") % {"first_name": first_name}, ""]
    if kind == SESSION_REMINDER:
        lines += [
            _("This is a reminder of your appointment with %(clinic)s on %(when)s.") % values,
            _("The calendar file attached adds it to your calendar."),
            "",
            _("Your portal: %(url)s") % values,
        ]
        if phone:
            lines.append(_("To change or cancel, call %(clinic)s on %(phone)s.") % values)
    elif kind == HOMEWORK_DUE:
        if due:
            words = _(
                "A friendly reminder from %(clinic)s: something you agreed to do is due "
                "tomorrow, %(due)s."
            )
        else:
            words = _(
                "A friendly reminder from %(clinic)s: something you agreed to do is due tomorrow."
            )
        lines += [words % values, _("See it in your portal: %(url)s") % values]
    elif kind == HOMEWORK_NEW:
        lines += [
            _("%(clinic)s has added something for you to do before your next appointment.")
            % values,
            _("You can read it in your portal: %(url)s") % values,
        ]
        if phone:
            lines.append(_("Questions? Call %(clinic)s on %(phone)s.") % values)
    elif kind == MAINTENANCE_CHECKIN:
        lines += [
            _("%(clinic)s asks you to fill in a short questionnaire this month.") % values,
            _("It is in your portal: %(url)s") % values,
        ]
    elif kind == PORTAL_LINK_ASKED:
        lines += [
            _("You asked for a new personal link to the %(clinic)s portal. Here it is:") % values,
            url,
            "",
            _(
                "Your earlier link no longer works. Keep this one private: anyone with it "
                "can open your portal."
            ),
        ]
        if phone:
            lines.append(_("If you did not ask for it, call %(clinic)s on %(phone)s.") % values)
    else:
        lines += [
            _("Here is your personal link to the %(clinic)s portal:") % values,
            url,
            "",
            _("Keep it private: anyone with this link can open your portal."),
        ]
        if phone:
            lines.append(
                _("If you did not expect this message, call %(clinic)s on %(phone)s.") % values
            )
    lines += ["", clinic, _(FOOTER_TEXT), "", ""]
    return "\n".join(lines)


def _html(kind: str, first_name: str, clinic: str, phone: str, url: str, when: str, due: str):
    """The HTML body; every value escaped (the words are the catalogue's, with no markup)."""
    first_name, clinic, phone, url, when, due = map(
        escape_html, (first_name, clinic, phone, url, when, due)
    )
    values = {"clinic": clinic, "phone": phone, "when": f"<strong>{when}</strong>", "due": due}
    if kind == SESSION_REMINDER:
        message = (
            "<p>"
            + escape_html(
                _("This is a reminder of your appointment with %(clinic)s on %(when)s."),
                quote=False,
            )
            % values
            + "</p>\n<p>"
            + escape_html(_("The calendar file attached adds it to your calendar."))
            + "</p>"
        )
    elif kind == HOMEWORK_DUE:
        if due:
            words = _(
                "A friendly reminder from %(clinic)s: something you agreed to do is due "
                "tomorrow, %(due)s."
            )
        else:
            words = _(
                "A friendly reminder from %(clinic)s: something you agreed to do is due tomorrow."
            )
        message = f"<p>{escape_html(words, quote=False) % values}</p>"
    elif kind == HOMEWORK_NEW:
        words = _(
            "%(clinic)s has added something for you to do before your next appointment. "
            "You can read it in your portal."
        )
        message = f"<p>{escape_html(words, quote=False) % values}</p>"
    elif kind == MAINTENANCE_CHECKIN:
        words = _(
            "%(clinic)s asks you to fill in a short questionnaire this month. It is in your portal."
        )
        message = f"<p>{escape_html(words, quote=False) % values}</p>"
    elif kind == PORTAL_LINK_ASKED:
        words = _(
            "You asked for a new personal link to the %(clinic)s portal. Your earlier "
            "link no longer works. Keep this one private: anyone with it can open your "
            "portal."
        )
        message = f"<p>{escape_html(words, quote=False) % values}</p>"
    else:
        words = _(
            "Here is your personal link to the %(clinic)s portal. Keep it private: anyone "
            "with this link can open your portal."
        )
        message = f"<p>{escape_html(words, quote=False) % values}</p>"
    call = ""
    if phone:
        words = _("To change or cancel, call %(clinic)s on %(phone)s.")
        call = f"<p>{escape_html(words, quote=False) % values}</p>"
    hello = escape_html(_("Hello %(first_name)s,"), quote=False) % {"first_name": first_name}
    open_portal = escape_html(_("Open your portal"))
    return (
        f'<!doctype html>\n<html lang="{escape_html(translation.get_language())}">\n'
        f'<head><meta charset="utf-8"><title>{clinic}</title></head>\n<body>\n'
        f"<p>{hello}</p>\n{message}\n"
        f'<p><a href="{url}">{open_portal}</a></p>\n{call}\n'
        f"<p>{clinic}</p>\n<p><small>{escape_html(_(FOOTER_TEXT))}</small></p>\n</body>\n</html>\n"
    )


def _sms(kind: str, first_name: str, clinic: str, phone: str, url: str, when: str) -> str:
    values = {"first_name": first_name, "clinic": clinic, "phone": phone, "url": url, "when": when}
    if kind == SESSION_REMINDER:
        if phone:
            words = _(
                "Hi %(first_name)s, reminder: your appointment with %(clinic)s is on %(when)s. "
                "To change it call %(phone)s."
            )
        else:
            words = _(
                "Hi %(first_name)s, reminder: your appointment with %(clinic)s is on %(when)s."
            )
    elif kind == HOMEWORK_DUE:
        words = _(
            "Hi %(first_name)s, a reminder from %(clinic)s: something you agreed to do is due "
            "tomorrow. %(url)s"
        )
    elif kind == HOMEWORK_NEW:
        words = _(
            "Hi %(first_name)s, %(clinic)s has added something for you in your portal: %(url)s"
        )
    elif kind == MAINTENANCE_CHECKIN:
        words = _(
            "Hi %(first_name)s, a short questionnaire from %(clinic)s is in your portal: %(url)s"
        )
    elif kind == PORTAL_LINK_ASKED:
        words = _(
            "Hi %(first_name)s, here is the new %(clinic)s portal link you asked for (keep it "
            "private; the old one no longer works): %(url)s"
        )
    else:
        words = _(
            "Hi %(first_name)s, your personal %(clinic)s portal link (keep it private): %(url)s"
        )
    return " ".join((words % values).split())


def _staff_alert(kind: str, clinic: str, url: str) -> Content:
    words = STAFF_ALERT_WORDS[kind]
    text = f"{words}: {url}\n\nSign in to see the flag and acknowledge it.\n\n{clinic}\n{_(FOOTER_TEXT)}\n"
    html = (
        '<!doctype html>\n<html lang="en">\n'
        f'<head><meta charset="utf-8"><title>{escape_html(clinic)}</title></head>\n<body>\n'
        f'<p>{escape_html(words)}: <a href="{escape_html(url)}">open the flag</a>.</p>\n'
        "<p>Sign in to see the flag and acknowledge it.</p>\n"
        f"<p>{escape_html(clinic)}</p>\n<p><small>{_(FOOTER_TEXT)}</small></p>\n</body>\n</html>\n"
    )
    return Content(subject=words, text=text, html=html, sms=f"{clinic}: {words}: {url}")


def render(notification: Notification, delivery: Delivery) -> Content:
    """The subject, plain text, HTML and SMS body of one row, from what its kind's ``compose``
    gave (``notifications.registry``); a patient's notice in the patient's language."""
    clinic = notification.clinic
    if notification.kind in STAFF_ALERT_WORDS:
        with _wording_in(settings.LANGUAGE_CODE):
            return _staff_alert(notification.kind, str(clinic.name), delivery.url)
    patient = notification.patient
    with _wording_in(getattr(patient, "language", None) or settings.LANGUAGE_CODE):
        return _render_patient_notice(notification, delivery)


def _render_patient_notice(notification: Notification, delivery: Delivery) -> Content:
    clinic = notification.clinic
    kind = notification.kind
    when = due_day = ""
    ics = None
    if delivery.starts_at is not None:
        when = _when(delivery.starts_at, clinic.tz)
        if delivery.calendar_uid:
            ics = appointment_ics(
                delivery.starts_at, delivery.duration_minutes, clinic, uid=delivery.calendar_uid
            )
    if delivery.due_date is not None:
        due_day = _due_day(delivery.due_date)
    values = (
        kind,
        str(delivery.first_name),
        str(clinic.name),
        str(clinic.phone or ""),
        str(delivery.url or portal_url()),
        when,
    )
    return Content(
        subject=_(SUBJECTS[kind]) % {"when": when, "clinic": clinic.name},
        text=_text(*values, due_day),
        html=_html(*values, due_day),
        sms=_sms(*values),
        ics=ics,
    )


@lru_cache(maxsize=256)
def _from_header(sender_name: str, sender_email: str, clinic_name: str, default: str) -> str:
    if sender_email:
        return formataddr((sender_name or clinic_name, sender_email))
    # The clinic's name before the default's own: that one names the product, which is the
    # treatment's name ("IPT Clinic"), and a reminder must not say what the appointment is.
    name, address = parseaddr(default)
    return formataddr((sender_name or clinic_name or name, address))


def sender(clinic) -> str:
    """The From header: the clinic's own sender, else DEFAULT_FROM_EMAIL under the clinic's
    name. Remembered per clinic and setting: each is a header parse and a format."""
    return _from_header(
        clinic.sender_name or "",
        clinic.sender_email or "",
        clinic.name,
        settings.DEFAULT_FROM_EMAIL,
    )


CRLF = "\r\n"
SMTP_MAX_LINE = 998  # RFC 5321: longer lines need an encoding this fast path does not do


def _fold_header(name: str, value: str) -> str:
    """``Name: value`` as one or more CRLF-separated lines; RFC 2047-encoded when not ASCII."""
    if value.isascii() and len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}"
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: " + Header(value, charset, header_name=name).encode(linesep=CRLF)


def _text_part(content_type: str, text: str, extra: tuple[str, ...] = ()) -> list[str] | None:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    lines = body.split("\n")  # ends with "": the CRLF before a boundary is the boundary's
    ascii_only = body.isascii()
    # A character is at most four bytes in UTF-8 (one in ASCII): only a line that could be
    # too long is encoded to measure it.
    if max(map(len, lines)) * (1 if ascii_only else 4) > SMTP_MAX_LINE and any(
        len(line.encode()) > SMTP_MAX_LINE for line in lines
    ):
        return None
    encoding = "7bit" if ascii_only else "8bit"
    return [
        f'Content-Type: {content_type}; charset="utf-8"',
        f"Content-Transfer-Encoding: {encoding}",
        *extra,
        "",
        *lines,
    ]


def _boundary() -> str:
    return f"=============={uuid.uuid4().hex}=="


class NotificationEmail(EmailMultiAlternatives):
    """A notice through Django's email framework, with a fast way to its SMTP bytes.

    Django serialises a message through the email package's header registry, which costs
    more than everything else a send does together: kept by measurement (issue 18), since
    with Django's ``message()`` instead the sending process spent 2.1-2.9 times the CPU per
    reminder (A/B on PostgreSQL with a real SMTP receiver, alternating rounds), and make
    bench's delivery, at about half its no-op ceiling, would fall far below it (13-19%
    against 31% of the ceiling on a loaded machine). ``smtp_bytes()`` writes the same MIME
    structure (multipart/mixed of multipart/alternative text + HTML, then the attachments) by
    joining strings; tests/notifications/test_email_bytes.py reads it back next to Django's
    own serialisation. It answers None for anything it does not handle (an address or header
    that is not plain ASCII, a line longer than SMTP allows, a binary attachment, Cc/Bcc):
    the caller then sends the message the usual way.
    """

    def smtp_bytes(self) -> bytes | None:
        if self.cc or self.bcc or self.reply_to or len(self.to) != 1:
            return None
        addresses = (str(self.from_email), str(self.to[0]))
        headers = {"Subject": str(self.subject), **self.extra_headers}
        for value in (*addresses, *headers.values(), *headers):
            if "\n" in str(value) or "\r" in str(value):
                return None
        if not all(address.isascii() for address in addresses):
            return None
        if any(not str(value).isascii() for name, value in headers.items() if name != "Subject"):
            return None

        parts = [_text_part("text/plain", self.body)]
        for content, mimetype in self.alternatives:
            if not isinstance(content, str) or not mimetype.startswith("text/"):
                return None
            parts.append(_text_part(mimetype, content))
        attachments = []
        for filename, content, mimetype in self.attachments:
            if not isinstance(content, str) or not (mimetype or "").startswith("text/"):
                return None
            if not filename.isascii() or '"' in filename:
                return None
            disposition = f'Content-Disposition: attachment; filename="{filename}"'
            attachments.append(_text_part(mimetype, content, (disposition,)))
        if any(part is None for part in parts + attachments):
            return None

        lines = ["MIME-Version: 1.0"]
        if len(parts) == 1 and not attachments:
            body_lines = parts[0]
        else:
            inner = _boundary()
            body_lines = [f'Content-Type: multipart/alternative; boundary="{inner}"', ""]
            for part in parts:
                body_lines += [f"--{inner}", *part]
            body_lines.append(f"--{inner}--")
            if attachments:
                outer = _boundary()
                mixed = [f'Content-Type: multipart/mixed; boundary="{outer}"', ""]
                for part in [body_lines, *attachments]:
                    mixed += [f"--{outer}", *part]
                mixed.append(f"--{outer}--")
                body_lines = mixed
        header_end = body_lines.index("")
        lines += body_lines[:header_end]
        lines.append(_fold_header("Subject", headers.pop("Subject")))
        lines.append(f"From: {addresses[0]}")
        lines.append(f"To: {addresses[1]}")
        if not any(name.lower() == "date" for name in headers):
            lines.append(f"Date: {format_datetime(datetime.now(UTC))}")
        if not any(name.lower() == "message-id" for name in headers):
            return None
        lines += [_fold_header(name, str(value)) for name, value in headers.items()]
        lines += body_lines[header_end:]
        return (CRLF.join(lines) + CRLF).encode()


def email_message(notification: Notification, content: Content) -> NotificationEmail:
    message = NotificationEmail(
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


def staff_email_message(notification: Notification, mail) -> NotificationEmail:
    """A staff mail (``ipt_clinic.staff_mail.StaffMail``, plain text) as the outbox sends it:
    the clinic's sender, the row's Message-ID."""
    return NotificationEmail(
        subject=mail.subject,
        body=mail.text,
        from_email=sender(notification.clinic),
        to=[mail.recipient],
        headers={
            "Message-ID": message_id(notification),
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
