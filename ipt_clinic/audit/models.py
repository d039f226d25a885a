from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    EXPORT = "export", "Exported"
    SIGN = "sign", "Signed"
    TRANSITION = "transition", "Phase change"
    REASSIGN = "reassign", "Reassigned"
    PORTAL_ACCESS = "portal_access", "Portal access"
    PORTAL_ACTION = "portal_action", "Portal action"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Failed login"
    STAFF = "staff", "Staff change"
    DENIED = "denied", "Access refused"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One append-only line of the audit trail.

    It names the patient and the object by id only (no foreign keys), so the trail stays
    below every clinical app and outlives anything it mentions. ``changes`` holds
    ``{field: [old, new]}`` for updates: this is the change history of clinical records.
    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE as well.

    ``hash`` chains the trail: the SHA-256 of the previous event's hash followed by this
    event's content (every column but ``hash``, as text: ``audit_event_content`` on
    PostgreSQL, the ``audit_eventcontent`` view on SQLite). The database computes it in an
    insert trigger (migration 0003), whichever way the row is inserted, so whatever the app
    passes is overwritten; ``manage.py audit_verify`` walks the chain. A column added here
    must be added to the content in a migration, and on SQLite a migration that remakes the
    table must create the trigger again.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_kind = models.CharField(max_length=10, default="staff")  # staff, patient, system
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    patient_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "patient_id", "-at"]),
            models.Index(fields=["clinic", "object_type", "object_id"]),
            models.Index(fields=["clinic", "action", "-at"]),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")
