"""The clinic-wide bulk export: a Celery job (run here eagerly, through the task) writing one
NDJSON file per resource type and a manifest as FHIR Bulk Data lays them out; its progress;
downloads for the clinic's admins only, audited; the files deleted once their time is up."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interop import services
from interop.fhir import unresolved_references
from interop.models import BulkExport
from interop.tasks import run_bulk_export, sweep_bulk_exports
from ipt_clinic.audit.models import AuditEvent
from phases.models import RelapsePreventionPlan, TreatmentCourse
from sessions.models import Measure, SessionNote
from tests.conftest import login
from tests.factories import (
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
)

from .bulk import read_export, resources_of_course
from .roundtrip import compare_course

# Committed rows, autocommit: as in a worker (the task calls close_old_connections(), which
# would close a test's enclosing transaction).
pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 12, 14, 0, 30, tzinfo=UTC)  # tests/clock.py's "monday-0030"


@pytest.fixture
def published(monkeypatch):
    """The job ids of the export tasks published to the broker, in order (the messages are
    built for real, then kept here instead of being sent: the tests run them eagerly)."""
    from kombu import Producer

    sent: list[int] = []

    def publish(self, body, *args, headers=None, **kwargs):
        assert headers["task"] == "interop.run_bulk_export"
        sent.append(body[0][0])

    monkeypatch.setattr(Producer, "publish", publish)
    return sent


@pytest.fixture(autouse=True)
def _fixed_clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def courses(export_dir, course, therapist, other_therapist):
    """Three courses of the clinic (two therapists), with sessions, scores (a WSAS among them)
    and goals."""
    other = CourseFactory(patient=PatientFactory(primary_therapist=other_therapist))
    third = CourseFactory(patient=PatientFactory(primary_therapist=therapist), status="dropped_out")
    for n, item in enumerate((course, other, third)):
        area = ProblemAreaFactory(course=item)
        GoalFactory(problem_area=area, status=["open", "achieved", "partly"][n])
        session = SessionFactory(
            course=item, status="attended", scheduled_start=timezone.now() - timedelta(days=7)
        )
        SessionNote.objects.create(
            clinic=item.clinic,
            session=session,
            phase="problem_solving",
            narrative="Talked about the row on Sunday.",
            signed_at=session.scheduled_start + timedelta(hours=2),
            signed_by=item.therapist,
        )
        Measure.objects.create(
            clinic=item.clinic,
            course=item,
            session=session,
            instrument="gad7",
            answers=[n, 1, 2, 3, 0, 1, 2],
            total=n + 9,
            severity="mild",
            taken_at=session.scheduled_start,
        )
        if n == 0:  # a WSAS too, its work item unscored (retired)
            Measure.objects.create(
                clinic=item.clinic,
                course=item,
                session=session,
                instrument="wsas",
                answers=[None, 4, 6, 2, 3],
                total=15,
                severity="significant impairment",
                taken_at=session.scheduled_start,
            )
    TreatmentCourse.objects.filter(pk=course.pk).update(target_diagnosis="Depressive episode")
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Staying in bed",
        coping_strategies="Walk with Sam",
        if_symptoms_return="Call the clinic",
    )
    return [course, other, third]


def _start(client, published) -> BulkExport:
    """Press "Start" on the page: one task message is published once the job is committed."""
    response = client.post(reverse("interop:bulk_exports"))
    job = BulkExport.objects.get()
    assert published == [job.pk]
    assert response.status_code == 302
    assert response["Location"] == reverse("interop:bulk_export", args=[job.pk])
    return job


def test_it_writes_one_ndjson_file_per_type_that_round_trips(
    admin_client_, clinic_admin, courses, published
):
    job = _start(admin_client_, published)
    assert run_bulk_export.apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    assert (job.status, job.courses_done, job.courses_total) == ("done", 3, 3)

    found = read_export(job)
    assert set(found) == {
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
    }
    assert {kind: len(resources) for kind, resources in found.items()} == job.counts
    assert len(found["Patient"]) == 3
    assert len(found["EpisodeOfCare"]) == 3
    assert len(found["Practitioner"]) == len({r["id"] for r in found["Practitioner"]})
    everything = [r for resources in found.values() for r in resources]
    assert unresolved_references(everything, bundle=False) == []
    for course in courses:
        compare_course(course, resources_of_course(found, course))


def test_its_manifest_lists_the_files_as_fhir_bulk_data_does(admin_client_, courses, published):
    job = _start(admin_client_, published)
    run_bulk_export.apply(args=[job.pk])
    job.refresh_from_db()
    response = admin_client_.get(reverse("interop:bulk_manifest", args=[job.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    manifest = json.loads(response.content)
    assert manifest["transactionTime"] == T0.isoformat()
    assert manifest["request"] == "http://testserver" + reverse("interop:bulk_exports")
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    found = read_export(job)
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        kind: len(resources) for kind, resources in found.items()
    }
    for output in manifest["output"]:
        assert output["url"].startswith("http://testserver/")
        download = admin_client_.get(output["url"])
        assert download.status_code == 200
        assert download["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(download.streaming_content).decode().splitlines()
        assert len(lines) == output["count"]


def test_every_step_is_audited(admin_client_, clinic_admin, courses, published):
    job = _start(admin_client_, published)
    run_bulk_export.apply(args=[job.pk])
    admin_client_.get(reverse("interop:bulk_manifest", args=[job.pk]))
    admin_client_.get(reverse("interop:bulk_file", args=[job.pk, "Patient"]))
    events = AuditEvent.objects.filter(
        action="export", object_type="interop.bulkexport", object_id=job.pk
    ).order_by("id")
    assert [(e.actor_id, e.summary) for e in events] == [
        (clinic_admin.pk, "Clinic-wide FHIR bulk export requested"),
        (clinic_admin.pk, "FHIR bulk export file downloaded: manifest.json"),
        (clinic_admin.pk, "FHIR bulk export file downloaded: Patient.ndjson"),
    ]


def test_the_page_shows_progress_and_polls_until_done(
    admin_client_, courses, published, monkeypatch
):
    job = _start(admin_client_, published)
    page = admin_client_.get(reverse("interop:bulk_export", args=[job.pk])).content.decode()
    assert "Waiting to start" in page and "0 of 3 courses" in page
    assert 'hx-trigger="every 2s"' in page

    # One course per chunk: the progress saved after each is what the page would show.
    seen = []
    original = services.courses_for_export

    def spy(queryset):
        seen.append(BulkExport.objects.values_list("courses_done", flat=True).get(pk=job.pk))
        return original(queryset)

    monkeypatch.setattr(services, "CHUNK", 1)
    monkeypatch.setattr(services, "courses_for_export", spy)
    run_bulk_export.apply(args=[job.pk])
    assert seen == [0, 1, 2]

    partial = admin_client_.get(
        reverse("interop:bulk_export", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in partial
    assert "Ready to download" in partial and "3 of 3 courses" in partial
    assert "hx-trigger" not in partial
    assert reverse("interop:bulk_file", args=[job.pk, "Patient"]) in partial


def test_a_job_no_worker_takes_says_so_after_a_few_minutes(admin_client_, courses, published):
    """With no worker running the job stays queued: after three minutes the page says why the
    bar does not move, instead of polling in silence."""
    started = timezone.now()
    with time_machine.travel(started, tick=False):
        job = _start(admin_client_, published)
    url = reverse("interop:bulk_export", args=[job.pk])
    hint = "no background worker has taken it"
    with time_machine.travel(started + timedelta(minutes=1), tick=False):
        assert hint not in admin_client_.get(url).content.decode()
    with time_machine.travel(started + timedelta(minutes=4), tick=False):
        partial = admin_client_.get(url, headers={"HX-Request": "true"}).content.decode()
        assert hint in partial and 'hx-trigger="every 2s"' in partial
        run_bulk_export.apply(args=[job.pk])
        assert hint not in admin_client_.get(url).content.decode()


def test_the_files_are_deleted_when_their_time_is_up(
    admin_client_, clinic_admin, courses, published, _fixed_clock
):
    job = _start(admin_client_, published)
    run_bulk_export.apply(args=[job.pk])
    job.refresh_from_db()
    directory = Path(settings.FHIR_EXPORT_DIR) / job.directory
    assert job.expires_at == T0 + timedelta(days=7)

    _fixed_clock.move_to(T0 + timedelta(days=7) - timedelta(minutes=1))
    sweep_bulk_exports.apply()
    job.refresh_from_db()
    assert job.status == "done" and directory.is_dir()

    _fixed_clock.move_to(T0 + timedelta(days=7))
    sweep_bulk_exports.apply()
    job.refresh_from_db()
    assert job.status == "expired"
    assert not directory.exists()
    admin_client_ = login(Client(), clinic_admin)  # the first session has timed out by now
    file_url = reverse("interop:bulk_file", args=[job.pk, "Patient"])
    assert admin_client_.get(file_url).status_code == 404
    assert admin_client_.get(reverse("interop:bulk_manifest", args=[job.pk])).status_code == 404
    page = admin_client_.get(reverse("interop:bulk_export", args=[job.pk])).content.decode()
    assert "have been deleted" in page


def test_the_keeping_time_comes_from_the_settings(admin_client_, courses, published, settings):
    settings.FHIR_EXPORT_KEEP_DAYS = 2
    job = _start(admin_client_, published)
    run_bulk_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.expires_at == T0 + timedelta(days=2)


def test_the_sweep_fails_a_stuck_job_and_sends_a_lost_one_again(
    clinic_admin, export_dir, _fixed_clock, settings
):
    stuck = BulkExport.objects.create(
        clinic=clinic_admin.clinic,
        requested_by=clinic_admin,
        status="running",
        created_at=T0,
        started_at=T0,
    )
    lost = BulkExport.objects.create(
        clinic=clinic_admin.clinic, requested_by=clinic_admin, created_at=T0
    )
    _fixed_clock.move_to(T0 + timedelta(seconds=settings.FHIR_EXPORT_TIME_LIMIT + 61))
    assert services.bulk_exports_sweep() == [lost.pk]
    stuck.refresh_from_db()
    assert stuck.status == "failed"


def test_a_job_runs_once(admin_client_, courses, published):
    job = _start(admin_client_, published)
    assert run_bulk_export.apply(args=[job.pk]).get() == "done"
    assert run_bulk_export.apply(args=[job.pk]).get() == "skipped"
    assert run_bulk_export.apply(args=[job.pk + 1000]).get() == "skipped"


def test_only_the_clinics_admins_see_its_exports(
    clinic_admin, other_clinic_admin, therapist, export_dir
):
    job = BulkExport.objects.create(
        clinic=clinic_admin.clinic, requested_by=clinic_admin, created_at=T0
    )
    services.bulk_export_run(job_id=job.pk)
    urls = [
        reverse("interop:bulk_export", args=[job.pk]),
        reverse("interop:bulk_manifest", args=[job.pk]),
        reverse("interop:bulk_file", args=[job.pk, "Patient"]),
    ]
    for user in (therapist, other_clinic_admin):
        client = login(Client(), user)
        for url in urls:
            assert client.get(url).status_code == 404
    assert login(Client(), therapist).get(reverse("interop:bulk_exports")).status_code == 404
    listing = login(Client(), other_clinic_admin).get(reverse("interop:bulk_exports"))
    assert reverse("interop:bulk_export", args=[job.pk]) not in listing.content.decode()
    assert not AuditEvent.objects.filter(action="export", summary__contains="downloaded").exists()


def test_an_unknown_resource_type_is_a_404(clinic_admin, admin_client_, export_dir):
    job = BulkExport.objects.create(
        clinic=clinic_admin.clinic, requested_by=clinic_admin, created_at=T0
    )
    services.bulk_export_run(job_id=job.pk)
    url = reverse("interop:bulk_file", args=[job.pk, "..%2Fmanifest"])
    assert admin_client_.get(url).status_code == 404
    assert (
        admin_client_.get(reverse("interop:bulk_file", args=[job.pk, "Account"])).status_code == 404
    )


def test_a_job_that_fails_keeps_nothing_and_says_so(admin_client_, courses, published, monkeypatch):
    job = _start(admin_client_, published)
    original = services.validated

    def refuse_goals(resource):
        if resource["resourceType"] == "Goal":
            raise ValueError("a Goal the model refuses")
        return original(resource)

    monkeypatch.setattr(services, "validated", refuse_goals)
    assert run_bulk_export.apply(args=[job.pk]).get() == "failed"
    job.refresh_from_db()
    assert job.error == "ValueError"
    assert not (Path(settings.FHIR_EXPORT_DIR) / job.directory).exists()
    assert admin_client_.get(reverse("interop:bulk_manifest", args=[job.pk])).status_code == 404
    page = admin_client_.get(reverse("interop:bulk_export", args=[job.pk])).content.decode()
    assert "did not finish" in page


def test_a_refused_resource_is_logged_without_the_patients_details(
    admin_client_, courses, published, monkeypatch, caplog
):
    job = _start(admin_client_, published)
    original = services.patient_resource

    def misplaced_name(patient):
        return {**original(patient), "birthDate": f"{patient.first_name} {patient.last_name}"}

    monkeypatch.setattr(services, "patient_resource", misplaced_name)
    assert run_bulk_export.apply(args=[job.pk]).get() == "failed"
    assert "birthDate" in caplog.text
    assert "Rivers" not in caplog.text
