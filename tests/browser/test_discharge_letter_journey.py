"""The therapist writes the discharge letter of an ended course at 1366 px: drafts it from the
course page, edits it, signs and locks it, and downloads it as a PDF."""

import os
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from ipt_clinic.accounts.models import Role
from letters.models import DischargeLetter
from tests.factories import ClinicFactory, CourseFactory, PatientFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _screenshot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_therapist_drafts_edits_signs_and_downloads_the_letter(page, tmp_path):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=alice, first_name="Jamie", last_name="Rivers")
    course = CourseFactory(
        patient=patient,
        status="completed",
        phase="termination",
        start_date=date(2026, 8, 20),
        planned_sessions=12,
        sessions_attended=12,
        ended_at=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        baseline_phq9=17,
        latest_phq9=4,
        latest_phq9_at=datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "alice", device)

    page.goto(f"/courses/{course.pk}/")
    page.get_by_role("button", name="Draft the discharge letter").click()
    expect(page.get_by_role("heading", name="Edit the discharge letter")).to_be_visible()
    expect(page.get_by_label("Scores at the start and the end")).to_contain_text(
        "PHQ-9: 17 at the start, 4 at the end (down 13 points)."
    )
    checked(page)
    _screenshot(page, "discharge_letter_edit_1366.png")
    page.get_by_label("Recipient's name").fill("Dr Priya Shah")
    page.get_by_label("Practice and address").fill("Riverside Surgery\n1 Mill Lane")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Letter saved.")).to_be_visible()
    expect(page.get_by_text("Dear Dr Shah,")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="Sign and lock").click()
    expect(page.get_by_role("heading", name="Sign and lock the letter?")).to_be_visible()
    checked(page)
    page.get_by_role("button", name="Sign and lock").click()

    expect(page.get_by_text("Letter signed and locked.")).to_be_visible()
    expect(page.locator("#letter-locked")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    checked(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = tmp_path / "letter.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    _screenshot(page, "discharge_letter_1366.png")

    page.goto(f"/patients/{patient.pk}/")
    expect(page.locator("#patient-letters")).to_contain_text("Letter to Dr Priya Shah")
    expect(page.locator("#patient-letters")).to_contain_text("Signed")
    checked(page)
    _screenshot(page, "discharge_letter_patient_1366.png")
    assert DischargeLetter.objects.get().signed_by == alice
