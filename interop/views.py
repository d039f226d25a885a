"""The FHIR export's pages: a course's Bundle (for its therapist and the clinic admin) and the
clinic admin's bulk exports (start, progress, downloads). Every download is audited."""

import json
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ipt_clinic.audit.services import AuditAction, audit_record
from phases.access import get_course_for_user

from . import services
from .access import get_bulk_export_for_admin, require_clinic_admin
from .models import BulkExport, BulkExportStatus

NOT_STARTED_AFTER = timedelta(minutes=3)


def _no_store(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def course_fhir(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_user(request.user, course_id)
    bundle = services.course_export(course=course, by=request.user, request=request)
    stamp = timezone.now().astimezone(course.clinic.tz).strftime("%Y%m%d-%H%M")
    response = HttpResponse(bundle.model_dump_json(), content_type="application/fhir+json")
    return _no_store(response, f"course-{course.pk}-fhir-{stamp}.json")


@login_required
@require_http_methods(["GET", "POST"])
def bulk_exports(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_clinic_admin(user)
    if request.method == "POST":
        job = services.bulk_export_start(
            by=user, request_url=request.build_absolute_uri(), request=request
        )
        messages.success(request, "The export has started. This page shows how far it has got.")
        return redirect("interop:bulk_export", job.pk)
    jobs = BulkExport.objects.filter(clinic_id=user.clinic_id).select_related("requested_by")[:20]
    return render(
        request,
        "interop/bulk_exports.html",
        {"jobs": jobs, "clinic": user.clinic, "keep_days": settings.FHIR_EXPORT_KEEP_DAYS},
    )


@login_required
def bulk_export(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_bulk_export_for_admin(request.user, job_id)
    context = {
        "job": job,
        "clinic": request.user.clinic,
        "types": _outputs(job),
        # Still queued after a few minutes: no worker has taken it (none running, or the
        # broker down); the admin is told instead of watching a bar that never moves.
        "not_started": job.status == BulkExportStatus.QUEUED
        and timezone.now() - job.created_at > NOT_STARTED_AFTER,
    }
    if request.htmx:
        return render(request, "interop/_bulk_progress.html", context)
    return render(request, "interop/bulk_export.html", context)


def _outputs(job: BulkExport) -> list[tuple[str, int]]:
    return [
        (kind, job.counts.get(kind, 0)) for kind in services.RESOURCE_TYPES if job.counts.get(kind)
    ]


def _audit_download(request: HttpRequest, job: BulkExport, name: str) -> None:
    audit_record(
        action=AuditAction.EXPORT,
        clinic_id=job.clinic_id,
        actor=request.user,
        target=job,
        summary=f"FHIR bulk export file downloaded: {name}",
        request=request,
    )


@login_required
def bulk_manifest(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_bulk_export_for_admin(request.user, job_id)
    path = services.bulk_export_file(job, "manifest.json")
    if path is None:
        raise Http404("The export is not ready, or its files have expired.")
    manifest = json.loads(path.read_text())
    for output in manifest["output"]:
        output["url"] = request.build_absolute_uri(output["url"])
    _audit_download(request, job, "manifest.json")
    response = JsonResponse(manifest, json_dumps_params={"indent": 2})
    return _no_store(response, f"fhir-export-{job.pk}-manifest.json")


@login_required
def bulk_file(request: HttpRequest, job_id: int, resource_type: str) -> HttpResponse:
    job = get_bulk_export_for_admin(request.user, job_id)
    name = f"{resource_type}.ndjson"
    path = services.bulk_export_file(job, name)
    if path is None:
        raise Http404("The export is not ready, or its files have expired.")
    _audit_download(request, job, name)
    response = FileResponse(path.open("rb"), content_type="application/fhir+ndjson")
    return _no_store(response, f"fhir-export-{job.pk}-{name}")


__all__ = ["bulk_export", "bulk_exports", "bulk_file", "bulk_manifest", "course_fhir"]
