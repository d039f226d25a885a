"""A clinic-wide bulk FHIR export: one job per request, its files kept for a limited time."""

from django.conf import settings
from django.db import models


class BulkExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (files deleted)"


class BulkExport(models.Model):
    """A clinic's bulk export (FHIR Bulk Data's layout: one NDJSON file per resource type and
    a manifest). ``directory`` is relative to ``settings.FHIR_EXPORT_DIR``; ``counts`` is
    ``{resource type: resources written}``; the files are deleted once ``expires_at`` has
    passed (``interop.services.bulk_exports_expire``) and the row stays, marked expired."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=BulkExportStatus.choices, default=BulkExportStatus.QUEUED
    )
    # The kick-off address, for the manifest's "request".
    request_url = models.CharField(max_length=300, blank=True)
    courses_total = models.PositiveIntegerField(default=0)
    courses_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    directory = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Bulk export {self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == BulkExportStatus.DONE:
            return 100
        if not self.courses_total:
            return 0
        return min(100, self.courses_done * 100 // self.courses_total)

    @property
    def in_progress(self) -> bool:
        return self.status in (BulkExportStatus.QUEUED, BulkExportStatus.RUNNING)
