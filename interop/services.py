"""The FHIR exports: one course as a Bundle (``course_export``) and a clinic's bulk export
(``bulk_export_start`` / ``bulk_export_run`` / ``bulk_exports_expire``). Every export is
audited (EXPORT): who, which course or which clinic-wide job, and each file downloaded."""

import json
import logging
import secrets
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from ipt_clinic.audit.services import AuditAction, audit_record
from phases.models import TreatmentCourse

from .fhir import (
    References,
    course_bundle,
    course_resources,
    patient_resource,
    practitioner_resource,
    staff_of,
    validated,
)
from .models import BulkExport, BulkExportStatus
from .selectors import courses_for_export

logger = logging.getLogger(__name__)

# The NDJSON files, one per resource type, in the order the manifest lists them.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "EpisodeOfCare",
    "Condition",
    "Encounter",
    "QuestionnaireResponse",
    "Observation",
    "Goal",
    "CarePlan",
    "Provenance",
)
CHUNK = 100


def course_export(*, course: TreatmentCourse, by, request=None) -> Bundle:
    """The course as a validated Bundle, audited (EXPORT, the patient and the course)."""
    full = courses_for_export(TreatmentCourse.objects.filter(pk=course.pk)).get()
    bundle = course_bundle(full, now=timezone.now())
    audit_record(
        action=AuditAction.EXPORT,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=course,
        summary=f"FHIR Bundle of the course exported ({len(bundle.entry or [])} resources)",
        request=request,
    )
    return bundle


def export_root() -> Path:
    return Path(settings.FHIR_EXPORT_DIR)


def bulk_export_start(*, by, request_url: str = "", request=None) -> BulkExport:
    """A queued job for ``by``'s clinic, audited; its task is enqueued once the job is
    committed (the sweep starts it too, should the message be lost)."""
    from .tasks import run_bulk_export

    with transaction.atomic():
        job = BulkExport.objects.create(
            clinic_id=by.clinic_id,
            requested_by=by,
            request_url=request_url[:300],
            created_at=timezone.now(),
            courses_total=TreatmentCourse.objects.filter(clinic_id=by.clinic_id).count(),
        )
        audit_record(
            action=AuditAction.EXPORT,
            clinic_id=by.clinic_id,
            actor=by,
            target=job,
            summary="Clinic-wide FHIR bulk export requested",
            request=request,
        )
        transaction.on_commit(lambda: run_bulk_export.delay(job.pk))
    return job


def _claim(job_id: int) -> bool:
    """Queued -> running, by one conditional UPDATE: one runner per job."""
    return (
        BulkExport.objects.filter(pk=job_id, status=BulkExportStatus.QUEUED).update(
            status=BulkExportStatus.RUNNING, started_at=timezone.now()
        )
        == 1
    )


def bulk_export_run(*, job_id: int) -> BulkExport | None:
    """Write the job's files: one NDJSON file per resource type (every line a resource
    validated by its model, references as ``Type/id``) and ``manifest.json``; progress is
    saved every ``CHUNK`` courses. Returns None when the job is gone or already taken."""
    if not _claim(job_id):
        return None
    job = BulkExport.objects.select_related("clinic").get(pk=job_id)
    directory = f"{job.clinic_id}/{job.pk}-{secrets.token_hex(8)}"
    path = export_root() / directory
    try:
        path.mkdir(parents=True, mode=0o700)
        BulkExport.objects.filter(pk=job.pk).update(directory=directory)
        counts = _write_files(job, path)
        finished = timezone.now()
        manifest = {
            "transactionTime": (job.started_at or finished).isoformat(),
            "request": job.request_url,
            "requiresAccessToken": True,
            "output": [
                {
                    "type": kind,
                    "url": reverse("interop:bulk_file", args=[job.pk, kind]),
                    "count": counts[kind],
                }
                for kind in RESOURCE_TYPES
                if counts.get(kind)
            ],
            "error": [],
        }
        (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
        BulkExport.objects.filter(pk=job.pk).update(
            status=BulkExportStatus.DONE,
            counts=counts,
            finished_at=finished,
            expires_at=finished + timedelta(days=settings.FHIR_EXPORT_KEEP_DAYS),
        )
    except Exception as exc:
        if isinstance(exc, ValidationError):
            # Where and why, without the refused values (a patient's details).
            logger.error(
                "FHIR bulk export %s: a resource failed validation: %s",
                job.pk,
                exc.errors(include_input=False, include_url=False),
            )
        else:
            logger.exception("FHIR bulk export %s failed", job.pk)
        shutil.rmtree(path, ignore_errors=True)
        BulkExport.objects.filter(pk=job.pk).update(
            status=BulkExportStatus.FAILED,
            finished_at=timezone.now(),
            # The kind of error only: its message may quote a patient's record.
            error=type(exc).__name__[:300],
        )
    return BulkExport.objects.get(pk=job.pk)


def _write_files(job: BulkExport, path: Path) -> dict[str, int]:
    ref = References(bundle=False)
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    seen: set[str] = set()
    files = {kind: (path / f"{kind}.ndjson").open("w", encoding="utf-8") for kind in RESOURCE_TYPES}
    try:

        def write(resource: dict) -> None:
            kind = resource["resourceType"]
            files[kind].write(validated(resource).model_dump_json() + "\n")
            counts[kind] += 1

        ids = list(
            TreatmentCourse.objects.filter(clinic_id=job.clinic_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
        BulkExport.objects.filter(pk=job.pk).update(courses_total=len(ids))
        for start in range(0, len(ids), CHUNK):
            chunk = courses_for_export(
                TreatmentCourse.objects.filter(
                    clinic_id=job.clinic_id, pk__in=ids[start : start + CHUNK]
                )
            ).order_by("id")
            for course in chunk:
                once = [patient_resource(course.patient)] + [
                    practitioner_resource(user) for user in staff_of(course)
                ]
                for resource in once:
                    key = f"{resource['resourceType']}/{resource['id']}"
                    if key not in seen:
                        seen.add(key)
                        write(resource)
                for resource in course_resources(course, ref, with_patient=False):
                    write(resource)
            BulkExport.objects.filter(pk=job.pk).update(
                courses_done=min(start + CHUNK, len(ids)), counts=counts
            )
    finally:
        for handle in files.values():
            handle.close()
    for kind in RESOURCE_TYPES:
        if not counts[kind]:
            (path / f"{kind}.ndjson").unlink()
    return {kind: count for kind, count in counts.items() if count}


def bulk_exports_expire() -> int:
    """Delete the files of every finished job past ``expires_at`` and mark it expired (the
    row stays, as the audit trail names it). Returns how many jobs expired."""
    expired = 0
    for job in BulkExport.objects.filter(
        status=BulkExportStatus.DONE, expires_at__lte=timezone.now()
    ):
        # Marked first: from then on no download is served, and the files can go.
        if BulkExport.objects.filter(pk=job.pk, status=BulkExportStatus.DONE).update(
            status=BulkExportStatus.EXPIRED
        ):
            expired += 1
            if job.directory:
                shutil.rmtree(export_root() / job.directory, ignore_errors=True)
    return expired


def bulk_exports_sweep() -> list[int]:
    """The beat's housekeeping: expire old files; a job still running past the task's hard
    time limit (its worker died or was killed) is marked failed and its files deleted; a job
    still queued after a minute (its message lost) is returned, to be enqueued again."""
    bulk_exports_expire()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FHIR_EXPORT_TIME_LIMIT + 60)
    for job in BulkExport.objects.filter(status=BulkExportStatus.RUNNING, started_at__lt=stale):
        if (
            BulkExport.objects.filter(pk=job.pk, status=BulkExportStatus.RUNNING).update(
                status=BulkExportStatus.FAILED, finished_at=now, error="Did not finish in time"
            )
            and job.directory
        ):
            shutil.rmtree(export_root() / job.directory, ignore_errors=True)
    return list(
        BulkExport.objects.filter(
            status=BulkExportStatus.QUEUED, created_at__lt=now - timedelta(minutes=1)
        ).values_list("pk", flat=True)
    )


def bulk_export_file(job: BulkExport, name: str) -> Path | None:
    """The path of one of a finished job's files (``manifest.json`` or ``<Type>.ndjson``),
    or None when it is not there (expired, not finished, or no such type)."""
    if job.status != BulkExportStatus.DONE or not job.directory:
        return None
    if name != "manifest.json" and name not in {f"{kind}.ndjson" for kind in RESOURCE_TYPES}:
        return None
    path = export_root() / job.directory / name
    return path if path.is_file() else None


__all__ = [
    "RESOURCE_TYPES",
    "bulk_export_file",
    "bulk_export_run",
    "bulk_export_start",
    "bulk_exports_expire",
    "bulk_exports_sweep",
    "course_export",
]
