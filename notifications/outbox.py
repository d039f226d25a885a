"""Writing to the outbox, in the caller's transaction.

Each function writes, moves or cancels ``Notification`` rows inside the caller's transaction,
so a change that rolls back leaves no notice behind and a change that commits always has its
notice. ``dedupe_key`` (what it is about, kind, channel, intended due time) is unique: writing
the same notice twice writes nothing new. The apps above decide *whether* a notice is due
(``patients.notices``, ``sessions.notices``); this module only keeps the rows.
"""

from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Notification, NotificationChannel, NotificationStatus
from .quiet_hours import after_quiet_hours

STAFF_USER = "staff_user"


def dedupe_key(about_type: str, about_id: int, kind: str, channel: str, intended: datetime) -> str:
    """The unique key of one notice: what it is about, its kind and channel, and the due time
    the rules give it (UTC). Anything that writes outbox rows builds the key here."""
    stamp = intended.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{about_type}:{about_id}:{kind}:{channel}:{stamp}"


def outbox_put(
    *,
    patient,
    channel: str,
    recipient: str,
    kind: str,
    about_type: str,
    about_id: int,
    intended: datetime,
    payload: dict | None = None,
    audience: str = "",
    quiet_hours: bool = True,
) -> Notification:
    """Write one notice about ``patient`` (or find the one already there). ``intended`` is the
    due time the rules give; a time already past is due now, and an SMS is moved out of the
    clinic's quiet hours (``patient.clinic`` is read) unless ``quiet_hours`` is False (staff
    alerts). ``audience`` tells apart notices of one kind about one thing to different people
    (the treating therapist, the duty contact…): it is part of the unique key."""
    now = timezone.now()
    due_at = max(intended, now)
    if channel == NotificationChannel.SMS and quiet_hours:
        due_at = after_quiet_hours(patient.clinic, due_at)
    key = dedupe_key(about_type, about_id, kind, channel, intended)
    if audience:
        key = f"{key}:{audience}"
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


def unstarted(clinic_id: int) -> QuerySet[Notification]:
    """The rows ``outbox_cancel`` can still withdraw: pending, or claimed but not yet
    attempted. A row a sender has begun is left to it: it re-checks the rules first."""
    return Notification.objects.filter(clinic_id=clinic_id).filter(
        Q(status=NotificationStatus.PENDING)
        | Q(status=NotificationStatus.SENDING, attempt_started_at__isnull=True)
    )


def outbox_cancel(
    *, clinic_id: int, about_type: str, about_id: int, kinds: list[str], reason: str, keep=""
) -> int:
    """Cancel the not-yet-started rows of these kinds about one thing (except the row whose
    key is ``keep``). Returns how many were cancelled."""
    return (
        unstarted(clinic_id)
        .filter(about_type=about_type, about_id=about_id, kind__in=kinds)
        .exclude(dedupe_key=keep)
        .update(
            status=NotificationStatus.CANCELLED,
            last_error=reason,
            lease_until=None,
            payload={},
            updated_at=timezone.now(),
        )
    )


def staff_mail_put(*, kind: str, about_id: int, clinic_id: int, recipient: str) -> Notification:
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
