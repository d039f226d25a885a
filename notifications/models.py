"""The outbox: one row per message to send, and the periodic jobs' heartbeats.

A row says what a notice is about only as ``about_type`` / ``about_id`` and its ``kind``; the
apps above register their kinds (``notifications.registry``) and load the thing at send time.
"""

from django.db import models
from django.db.models import Q


def notification_kinds() -> list[tuple[str, str]]:
    """Every registered kind: the patient notices the apps above register
    (``notifications.registry``), then the staff mails (``ipt_clinic.staff_mail``). A callable,
    so that a new kind needs no migration of this table."""
    from ipt_clinic import staff_mail

    from . import registry

    return [
        *((kind.name, kind.label) for kind in registry.kinds()),
        *((registered.name, registered.label) for registered in staff_mail.kinds()),
    ]


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Notification(models.Model):
    """The outbox. A row is written in the same transaction as the change that causes it;
    ``dedupe_key`` (about + kind + channel + due time) makes a second copy impossible.

    Every send updates its row twice (claim, then sent), so the table carries no index it
    does not use: the clinic's own index is the leading column of the two composite ones,
    and the key's uniqueness is a constraint (a unique field would add a second, pattern
    index on PostgreSQL). Pages are left part empty (fillfactor 70, set when the table was
    made) so that the claim, which changes no indexed column, is a heap-only update."""

    # Indexed as the first column of the composite indexes below.
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, db_index=False)
    # Empty for a mail to a member of staff (about_type "staff_user", about_id their user id).
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=20, choices=notification_kinds)
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=254)
    # What the row is about: a registered kind's ``about_type`` ("session", "assignment",
    # "portal_link"), or "staff_user" for a staff mail.
    about_type = models.CharField(max_length=30)
    about_id = models.BigIntegerField()
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set when a sender claims the row (attempts + 1); cleared when the row goes back to
    # pending. While set and the lease runs, no other sender may take the row.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key_unique"),
        ]
        indexes = [
            models.Index(
                fields=["status", "due_at"],
                name="notification_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["clinic", "status", "due_at"], name="notification_clinic_due_idx"),
            models.Index(
                fields=["clinic", "about_type", "about_id"], name="notification_clinic_about_idx"
            ),
        ]


class Heartbeat(models.Model):
    """Last run of a periodic job (the operations panel shows the beat's)."""

    name = models.CharField(max_length=60, unique=True)
    last_run_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
