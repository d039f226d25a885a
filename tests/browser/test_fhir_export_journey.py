"""The FHIR export in the browser: the therapist downloads a course's Bundle from its page; the
clinic admin starts the clinic-wide export from Operations, watches its page move on by itself
(htmx polling, no inline script) to the files, and downloads one; on a laptop and on a
390-px phone (screenshots kept under test-artifacts/browser/). axe on every page."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from interop.models import BulkExport
from interop.tasks import run_bulk_export
from ipt_clinic.accounts.models import Role
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, SessionFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    """The export tasks' messages, built for real and kept here (no worker in this test: the
    test runs the task itself)."""
    from kombu import Producer

    sent: list[int] = []

    def publish(self, body, *args, headers=None, **kwargs):
        sent.append(body[0][0])

    monkeypatch.setattr(Producer, "publish", publish)
    return sent


@pytest.fixture
def clinic_world(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "fhir-exports"
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist, therapist_device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    admin, admin_device = staff_with_authenticator(
        username="carol",
        first_name="Carol",
        last_name="Admin",
        clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist, record_number="R-7"))
    SessionFactory(
        course=course, status="attended", scheduled_start=timezone.now() - timedelta(days=3)
    )
    return {
        "therapist": (therapist, therapist_device),
        "admin": (admin, admin_device),
        "course": course,
    }


def test_the_therapist_downloads_the_course_as_fhir(page: Page, clinic_world):
    therapist, device = clinic_world["therapist"]
    log_in(page, therapist.username, device)
    page.goto(f"/courses/{clinic_world['course'].pk}/")
    checked(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download FHIR (JSON)").click()
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"Patient", "Encounter"}


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}]
)
def test_the_admin_starts_the_bulk_export_and_watches_it_finish(
    page: Page, clinic_world, published, viewport
):
    page.set_viewport_size(viewport)
    admin, device = clinic_world["admin"]
    log_in(page, admin.username, device)
    page.goto("/caseload/clinic/operations/")
    checked(page)
    page.get_by_role("link", name="FHIR bulk export of the clinic's courses").click()
    expect(page.get_by_role("heading", name="FHIR bulk export")).to_be_visible()
    checked(page)
    page.get_by_role("button", name="Start a clinic-wide export").click()
    expect(page.get_by_text("Waiting to start")).to_be_visible()
    checked(page)
    [job_id] = published
    assert BulkExport.objects.get().pk == job_id

    run_bulk_export.apply(args=[job_id])
    # The page asks again every 2 s and shows the files without a reload.
    expect(page.get_by_text("Ready to download")).to_be_visible(timeout=8_000)
    expect(page.get_by_text("1 of 1 course")).to_be_visible()
    checked(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"fhir-bulk-export-{viewport['width']}.png"), full_page=True
    )
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Patient.ndjson").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert [json.loads(line)["identifier"][0]["value"] for line in lines] == ["R-7"]
    page.get_by_role("link", name="← All exports").click()
    expect(page.get_by_role("cell", name="Ready to download")).to_be_visible()
    checked(page)
