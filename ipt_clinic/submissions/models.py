from django.conf import settings
from django.db import models


class FormSubmission(models.Model):
    """One one-time form key, claimed by the first sending of the form that carried it.

    ``purpose`` names the form, ``scope`` the record it adds to (``patients.patient:12``);
    ``content_hash`` is the SHA-256 of what was sent, ``object_type``/``object_id`` the record
    it made (for a corrected questionnaire: the latest correction). Unique per clinic, so a
    clinic-sharded database keeps every claim on its clinic's shard."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    key = models.CharField(max_length=100)
    purpose = models.CharField(max_length=60)
    scope = models.CharField(max_length=80)
    content_hash = models.CharField(max_length=64)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "key"], name="form_submission_once_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.key[:8]}… -> {self.object_type}:{self.object_id}"
