"""The FHIR export: a course's Bundle (its therapist and the clinic admin) and the clinic
admin's bulk exports (admin only; a job of another clinic is a 404, as a record would be)."""

from tests.matrix import Row


def _finished_job(world):
    """A bulk export of the world's clinic, run to the end (made once per world)."""
    job = world.extra.get("bulk_export")
    if job is None:
        from django.utils import timezone

        from interop.models import BulkExport
        from interop.services import bulk_export_run

        job = BulkExport.objects.create(
            clinic=world.clinic, requested_by=world.clinic_admin, created_at=timezone.now()
        )
        bulk_export_run(job_id=job.pk)
        world.extra["bulk_export"] = job
    return job


ROWS = {
    "interop:course_fhir": [Row(kwargs=lambda w: {"course_id": w.course.pk})],
    "interop:bulk_exports": [Row(audience="admin"), Row(audience="admin", method="post")],
    "interop:bulk_export": [
        Row(audience="admin", names_staff=True, kwargs=lambda w: {"job_id": _finished_job(w).pk})
    ],
    "interop:bulk_manifest": [
        Row(audience="admin", names_staff=True, kwargs=lambda w: {"job_id": _finished_job(w).pk})
    ],
    "interop:bulk_file": [
        Row(
            audience="admin",
            names_staff=True,
            kwargs=lambda w: {"job_id": _finished_job(w).pk, "resource_type": "Patient"},
        )
    ],
}
