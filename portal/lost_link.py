"""“Lost your link?”: a patient types the email address or phone number the clinic has for
them, and a new personal link goes to that contact on file (and to no other) when it belongs
to a patient in treatment who uses the portal.

Who gets a link: an active patient, with an active course that has not ended, who has been
given a portal link before (the portal is theirs to use: the clinic made them one). The email
address is compared without case or spaces; a phone number by its digits with the country
code (PHONE_COUNTRY_CODE for a number written without one), so that spaces, dashes, brackets
and +44 or 0044 in place of the leading 0 do not matter. One
address can be on file at two clinics: each such patient gets their own link.

The new link replaces the patient's live one, as a link made by staff does
(``portal_link_create``), and goes through the outbox (``patients.notices.on_portal_link_asked``):
its URL lives only in the row's payload until the row is sent. A patient gets at most
PORTAL_LOST_LINK_PER_PATIENT_PER_DAY such links in 24 hours (counted from the outbox, under
the patient's row lock), and one client address may ask PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR
times an hour (counted in the shared cache: Redis, or the embedded file cache).

Nothing here answers differently to the person asking: the view shows the same page whether
anything matched, was throttled or was sent, and pads its answer to the same least time
(``answer_after``). A matched request is audited on the patient, with no token and not the
value typed; an unmatched one is audited without a patient, with a keyed digest of the value
(so repeated tries of one value can be seen, and the value cannot be read back).
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Lower, Replace, Trim
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.client_address import client_throttle_key
from notifications.models import Notification, NotificationChannel
from patients.models import Patient, PatientStatus, PortalLink
from patients.notices import PORTAL_LINK_ASKED, on_portal_link_asked
from patients.portal_links import portal_link_create
from phases.models import CourseStatus, TreatmentCourse

logger = logging.getLogger(__name__)

# What may separate the digits of a written phone number.
_PHONE_SEPARATORS = (" ", "-", ".", "(", ")", "/")
# Digits with the country code: fewer is no line anyone is reached on; more is not E.164.
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 8, 15
# The tail of the digits the database compares before the exact comparison here.
_TAIL_DIGITS = 6
ADDRESS_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Contact:
    """What the patient typed, normalised: ``channel`` is the outbox's (email or sms);
    ``value`` the email address in lower case without spaces, or the phone number as ``+``
    and its digits with the country code."""

    channel: str
    value: str


def email_normalised(typed: str) -> str:
    return "".join(typed.split()).lower()


def phone_normalised(typed: str) -> str | None:
    """The number as ``+`` and its digits with the country code (E.164), or None when it is
    not a phone number. Written without a country code (``07700 900123``), it is a number of
    PHONE_COUNTRY_CODE: its trunk 0 goes and the code comes first. ``00`` reads as ``+``, and
    the ``(0)`` some write after the country code (``+44 (0)7700 900123``) is dropped."""
    compact = typed.strip()
    for separator in _PHONE_SEPARATORS:
        compact = compact.replace(separator, "")
    country = settings.PHONE_COUNTRY_CODE
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        digits = country + compact.removeprefix("0")
    if digits.startswith(f"{country}0"):
        digits = country + digits[len(country) + 1 :]
    if not digits.isascii() or not digits.isdigit():
        return None
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return None
    return f"+{digits}"


def contact_parse(typed: str) -> Contact:
    """The contact in what was typed; ValidationError in plain words when it is neither."""
    if "@" in typed:
        value = email_normalised(typed)
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                gettext(
                    "This email address does not look complete. Please check it and try again."
                ),
                code="email",
            ) from None
        return Contact(NotificationChannel.EMAIL, value)
    value = phone_normalised(typed)
    if value is None:
        raise ValidationError(
            gettext(
                "Please type an email address (like name@example.com) or a phone number "
                "(like 07700 900123)."
            ),
            code="contact",
        )
    return Contact(NotificationChannel.SMS, value)


def lost_link_candidates(contact: Contact) -> list[Patient]:
    """The patients in treatment who use the portal and have ``contact`` on file, in any
    clinic. One query: the same work whether or not anyone matches."""
    in_treatment = Patient.objects.filter(status=PatientStatus.ACTIVE).filter(
        Exists(
            TreatmentCourse.objects.filter(
                patient=OuterRef("pk"), status=CourseStatus.ACTIVE, ended_at__isnull=True
            )
        ),
        Exists(PortalLink.objects.filter(patient=OuterRef("pk"))),
    )
    if contact.channel == NotificationChannel.EMAIL:
        return list(
            in_treatment.annotate(email_key=Lower(Trim("email"))).filter(email_key=contact.value)
        )
    compact = "phone"
    for separator in _PHONE_SEPARATORS:
        compact = Replace(compact, Value(separator), Value(""))
    tail = contact.value[-_TAIL_DIGITS:]
    found = in_treatment.annotate(phone_compact=compact).filter(phone_compact__endswith=tail)
    return [patient for patient in found if phone_normalised(patient.phone) == contact.value]


def contact_digest(contact: Contact) -> str:
    """A keyed digest of the value typed: equal for equal values, unreadable without the
    secret key (a phone number's few digits would be found from a plain hash)."""
    return salted_hmac(
        "portal.lost_link", f"{contact.channel}:{contact.value}", algorithm="sha256"
    ).hexdigest()[:16]


def _channel_words(channel: str) -> str:
    return "by email" if channel == NotificationChannel.EMAIL else "by text message"


def lost_link_request(*, contact: Contact, request=None) -> list[Notification]:
    """Send a new link to every patient who has ``contact`` on file (see the module). Returns
    the outbox rows written (for tests: the caller answers the same whatever it is)."""
    patients = lost_link_candidates(contact)
    if not patients:
        audit_record(
            action=AuditAction.PORTAL_ACCESS,
            clinic_id=None,
            actor_kind="patient",
            summary=f"“Lost your link?”: no patient in treatment has this "
            f"{'email address' if contact.channel == NotificationChannel.EMAIL else 'phone number'}"
            f" on file (digest {contact_digest(contact)})",
            request=request,
        )
        return []
    rows = []
    for patient in patients:
        row = _patient_new_link(patient=patient, channel=contact.channel, request=request)
        if row is not None:
            rows.append(row)
    return rows


@transaction.atomic
def _patient_new_link(*, patient: Patient, channel: str, request=None) -> Notification | None:
    # The patient's row lock: two requests at once count each other's links.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    since = timezone.now() - timedelta(days=1)
    sent_today = Notification.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, kind=PORTAL_LINK_ASKED, created_at__gt=since
    ).count()
    if sent_today >= settings.PORTAL_LOST_LINK_PER_PATIENT_PER_DAY:
        audit_record(
            action=AuditAction.PORTAL_ACTION,
            clinic_id=patient.clinic_id,
            actor_kind="patient",
            patient_id=patient.pk,
            target=patient,
            summary=f"Asked for a new portal link on “Lost your link?” {_channel_words(channel)};"
            f" not sent: {sent_today} sent in the last 24 hours already",
            request=request,
        )
        return None
    link, url = portal_link_create(patient=patient, by=None, rotated=True, request=request)
    row = on_portal_link_asked(link, url, channel=channel)
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=patient.clinic_id,
        actor_kind="patient",
        patient_id=patient.pk,
        target=link,
        summary=f"Asked for a new portal link on “Lost your link?”; sent {_channel_words(channel)}"
        " to the contact on file",
        request=request,
    )
    return row


def _address_key(request, window: int) -> str:
    return f"portal:lost-link:{client_throttle_key(request)}:{window}"


def lost_link_address_allowed(request) -> bool:
    """Count this request against its client address; False once the address has asked
    PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR times within the clock hour. While the cache cannot
    be reached it stands aside (a warning is logged): the per-patient limit, kept in the
    database, still holds."""
    window = int(time.time() // ADDRESS_WINDOW_SECONDS)
    key = _address_key(request, window)
    try:
        cache.add(key, 0, timeout=ADDRESS_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=ADDRESS_WINDOW_SECONDS * 2)
            count = 1
    except Exception as error:  # noqa: BLE001 - whatever the cache backend raises when down
        logger.warning(
            "Portal lost-link throttle: the cache cannot be reached (%s: %s); not counting",
            type(error).__name__,
            error,
        )
        return True
    return count <= settings.PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR


def lost_link_address_refused(request) -> None:
    audit_record(
        action=AuditAction.PORTAL_ACCESS,
        clinic_id=None,
        actor_kind="patient",
        summary="“Lost your link?”: not looked up, too many requests from this address",
        request=request,
    )


def answer_after(started: float) -> None:
    """Wait until PORTAL_LOST_LINK_ANSWER_MS have passed since ``started`` (a
    ``time.monotonic()``), so that the answer takes as long whether a link was sent or not."""
    remaining = settings.PORTAL_LOST_LINK_ANSWER_MS / 1000 - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
    elif remaining < -0.5:
        logger.warning(
            "Portal lost-link request took %.0f ms, longer than PORTAL_LOST_LINK_ANSWER_MS",
            settings.PORTAL_LOST_LINK_ANSWER_MS - remaining * 1000,
        )
