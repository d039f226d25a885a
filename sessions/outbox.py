"""The notification outbox: the hooks that clinical changes call, in their own transaction.

Each hook writes, moves or cancels ``Notification`` rows inside the caller's transaction, so a
change that rolls back leaves no notice behind and a change that commits always has its
notice. ``dedupe_key`` (what it is about, kind, channel, intended due time) is unique: calling
a hook twice for the same state writes nothing new.

Rules applied here (and again at send time, see ``sessions.notifications``): the patient must
be active, have consented to reminders and have a contact on file for their preferred channel.
"""

from datetime import UTC, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from patients.models import Channel, Patient, PatientStatus, PortalLink

from .models import (
    Assignment,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    TherapySession,
)
from .quiet_hours import after_quiet_hours

# When the "due tomorrow" homework reminder goes out, in the clinic's time zone.
HOMEWORK_DUE_REMINDER_AT = time(9, 0)


def contact_for(patient: Patient) -> tuple[str, str] | None:
    """``(channel, recipient)`` if the patient may be sent notices, else None."""
    if not patient.reminder_consent or patient.status != PatientStatus.ACTIVE:
        return None
    if patient.preferred_channel == Channel.EMAIL and patient.email:
        return NotificationChannel.EMAIL, patient.email
    if patient.preferred_channel == Channel.SMS and patient.phone:
        return NotificationChannel.SMS, patient.phone
    return None


def dedupe_key(about_type: str, about_id: int, kind: str, channel: str, intended: datetime) -> str:
    """The unique key of one notice: what it is about, its kind and channel, and the due time
    the rules give it (UTC). Anything that writes outbox rows builds the key here."""
    stamp = intended.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{about_type}:{about_id}:{kind}:{channel}:{stamp}"


def _put(
    *,
    patient: Patient,
    kind: str,
    about_type: str,
    about_id: int,
    intended: datetime,
    payload: dict | None = None,
) -> Notification | None:
    """Write one row (or find the one already there). ``intended`` is the due time the rules
    give; a time already past is due now, and an SMS is moved out of the clinic's quiet hours."""
    contact = contact_for(patient)
    if contact is None:
        return None
    channel, recipient = contact
    now = timezone.now()
    due_at = max(intended, now)
    if channel == NotificationChannel.SMS:
        due_at = after_quiet_hours(patient.clinic, due_at)
    key = dedupe_key(about_type, about_id, kind, channel, intended)
    notification, created = Notification.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "clinic_id": patient.clinic_id,
            "patient": patient,
            "kind": kind,
            "channel": channel,
            "recipient": recipient,
            "about_type": about_type,
            "about_id": about_id,
            "due_at": due_at,
            "payload": payload or {},
        },
    )
    if not created and notification.status == NotificationStatus.CANCELLED:
        # Back to a state that had a notice before (e.g. rescheduled back to the old time).
        Notification.objects.filter(pk=notification.pk, status=NotificationStatus.CANCELLED).update(
            status=NotificationStatus.PENDING,
            due_at=due_at,
            recipient=recipient,
            attempts=0,
            last_error="",
            next_attempt_at=None,
            lease_until=None,
            attempt_started_at=None,
            payload=payload or {},
            updated_at=now,
        )
        notification.refresh_from_db()
    return notification


def _cancel(
    *, clinic_id: int, about_type: str, about_id: int, kinds: list[str], reason: str, keep=""
) -> int:
    """Cancel the not-yet-started rows about one thing. A row a sender has already claimed
    is left alone: the sender re-checks the rules before it sends."""
    now = timezone.now()
    return (
        Notification.objects.filter(
            clinic_id=clinic_id, about_type=about_type, about_id=about_id, kind__in=kinds
        )
        .filter(
            Q(status=NotificationStatus.PENDING)
            | Q(status=NotificationStatus.SENDING, attempt_started_at__isnull=True)
        )
        .exclude(dedupe_key=keep)
        .update(
            status=NotificationStatus.CANCELLED,
            last_error=reason,
            lease_until=None,
            payload={},
            updated_at=now,
        )
    )


def _session_patient(session: TherapySession) -> Patient:
    return Patient.objects.select_related("clinic").get(pk=session.course.patient_id)


def _reminder_time(session: TherapySession, patient: Patient) -> datetime:
    return session.scheduled_start - timedelta(hours=patient.clinic.reminder_lead_hours)


def on_session_booked(session: TherapySession) -> Notification | None:
    """Called inside the booking transaction. The reminder is due ``reminder_lead_hours``
    before the start, or at once when the session is booked inside that window."""
    if session.scheduled_start <= timezone.now():
        return None
    patient = _session_patient(session)
    return _put(
        patient=patient,
        kind=NotificationKind.SESSION_REMINDER,
        about_type="session",
        about_id=session.pk,
        intended=_reminder_time(session, patient),
    )


def on_session_rescheduled(session: TherapySession) -> Notification | None:
    """Called inside the rescheduling transaction (scheduled_start already changed): the old
    reminder is cancelled and one for the new time written."""
    patient = _session_patient(session)
    contact = contact_for(patient)
    keep = ""
    if contact is not None:
        keep = dedupe_key(
            "session",
            session.pk,
            NotificationKind.SESSION_REMINDER,
            contact[0],
            _reminder_time(session, patient),
        )
    _cancel(
        clinic_id=session.clinic_id,
        about_type="session",
        about_id=session.pk,
        kinds=[NotificationKind.SESSION_REMINDER],
        reason="Session moved to another time.",
        keep=keep,
    )
    return on_session_booked(session)


def on_session_cancelled(session: TherapySession) -> None:
    """Called inside the cancelling transaction."""
    _cancel(
        clinic_id=session.clinic_id,
        about_type="session",
        about_id=session.pk,
        kinds=[NotificationKind.SESSION_REMINDER],
        reason="Session cancelled.",
    )


def on_assignment_set(assignment: Assignment) -> list[Notification]:
    """Called inside the transaction that sets homework: a "new homework" notice now and a
    "due tomorrow" reminder on the day before it is due (none when it is due today or sooner)."""
    patient = Patient.objects.select_related("clinic").get(pk=assignment.course.patient_id)
    written = []
    new = _put(
        patient=patient,
        kind=NotificationKind.HOMEWORK_NEW,
        about_type="assignment",
        about_id=assignment.pk,
        intended=assignment.created_at or timezone.now(),
    )
    if new is not None:
        written.append(new)
    tz = patient.clinic.tz
    day_before = assignment.due_date - timedelta(days=1)
    if day_before >= timezone.now().astimezone(tz).date():
        due = _put(
            patient=patient,
            kind=NotificationKind.HOMEWORK_DUE,
            about_type="assignment",
            about_id=assignment.pk,
            intended=datetime.combine(day_before, HOMEWORK_DUE_REMINDER_AT, tzinfo=tz),
        )
        if due is not None:
            written.append(due)
    return written


def on_assignment_closed(assignment: Assignment) -> None:
    """Called when homework is marked done / not done / withdrawn (cancels its notices)."""
    _cancel(
        clinic_id=assignment.clinic_id,
        about_type="assignment",
        about_id=assignment.pk,
        kinds=[NotificationKind.HOMEWORK_NEW, NotificationKind.HOMEWORK_DUE],
        reason="Homework closed.",
    )


def on_portal_link_sent(link: PortalLink, url: str) -> Notification | None:
    """Called when staff choose "send the link" for a portal link.

    The link's token exists nowhere else in plain text, so the URL is kept in the row's
    payload only until the row reaches a final state (sent, failed, cancelled), then wiped.
    Asking twice within the same minute sends it once.
    """
    patient = Patient.objects.select_related("clinic").get(pk=link.patient_id)
    now = timezone.now().replace(second=0, microsecond=0)
    return _put(
        patient=patient,
        kind=NotificationKind.PORTAL_LINK,
        about_type="portal_link",
        about_id=link.pk,
        intended=now,
        payload={"url": url},
    )


STAFF_USER = "staff_user"


def on_staff_mail(*, kind: str, about_id: int, clinic_id: int, recipient: str) -> Notification:
    """A mail of a staff kind (``ipt_clinic.staff_mail``) to member of staff ``about_id``,
    due now; called through ``staff_mail.queue`` inside the caller's transaction, which holds
    that member's row lock (so two requests for one person queue one after the other).

    The row stores no content: the kind's ``compose`` writes the mail when it is sent. While
    the latest mail of this kind about this person is unsent (pending, waiting out a retry)
    or failed or cancelled, that row is queued again (the same row, the same Message-ID,
    sent at most once); one a sender holds is left to it; after a delivered one, a new copy.
    """
    now = timezone.now()
    latest = (
        Notification.objects.filter(about_type=STAFF_USER, about_id=about_id, kind=kind)
        .order_by("-id")
        .first()
    )
    if latest is not None and latest.status == NotificationStatus.SENDING:
        return latest
    if latest is not None and latest.status != NotificationStatus.SENT:
        Notification.objects.filter(pk=latest.pk, status=latest.status).update(
            status=NotificationStatus.PENDING,
            recipient=recipient,
            due_at=now,
            attempts=0,
            last_error="",
            next_attempt_at=None,
            lease_until=None,
            attempt_started_at=None,
            updated_at=now,
        )
        latest.refresh_from_db()
        return latest
    copies = Notification.objects.filter(about_type=STAFF_USER, about_id=about_id, kind=kind)
    return Notification.objects.create(
        clinic_id=clinic_id,
        patient=None,
        kind=kind,
        channel=NotificationChannel.EMAIL,
        recipient=recipient,
        about_type=STAFF_USER,
        about_id=about_id,
        due_at=now,
        dedupe_key=f"{STAFF_USER}:{about_id}:{kind}:email:{copies.count() + 1}",
    )
