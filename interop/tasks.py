"""Celery tasks of the FHIR export. Thin: each calls one service."""

from django.conf import settings
from django.db import close_old_connections

from ipt_clinic.celery import app

from . import services


@app.task(
    name="interop.run_bulk_export",
    ignore_result=True,
    soft_time_limit=max(settings.FHIR_EXPORT_TIME_LIMIT - 30, 1),
    time_limit=settings.FHIR_EXPORT_TIME_LIMIT,
)
def run_bulk_export(job_id: int) -> str:
    """Write one clinic's bulk export; quietly nothing when the job is gone or taken."""
    close_old_connections()
    job = services.bulk_export_run(job_id=job_id)
    return job.status if job is not None else "skipped"


@app.task(name="interop.sweep_bulk_exports", ignore_result=True)
def sweep_bulk_exports() -> int:
    """Beat: expire old exports' files, fail stuck jobs, enqueue again jobs never started."""
    close_old_connections()
    requeue = services.bulk_exports_sweep()
    for job_id in requeue:
        run_bulk_export.delay(job_id)
    return len(requeue)
