"""The clinic admin's outcomes page as services report them, on a laptop and on a phone: the
rules in one line each, the tables with their denominators, and the CSV with small cells
hidden. Screenshots are kept under test-artifacts/browser/."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from tests.caseload.recovery_builders import ended_course
from tests.factories import ClinicFactory, UserFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _clinic_with_finished_courses():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    _admin, device = staff_with_authenticator(
        username="carol", first_name="Carol", last_name="Admin", clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )  # fmt: skip
    therapist = UserFactory(
        username="tess", first_name="Tess", last_name="Ward", clinic=clinic, role=Role.THERAPIST
    )
    for _ in range(5):
        ended_course(therapist, phq9=[17, 6], gad7=[12, 5], area="grief")
    ended_course(therapist, phq9=[11, 18], gad7=[9, 12], area="role_dispute")
    return device


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_it_shows_outcomes_as_services_report_them(page: Page, width, height):
    device = _clinic_with_finished_courses()
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "carol", device)
    page.get_by_role("link", name="Outcomes").click()
    checked(page)
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Outcomes as services report them")
    )
    expect(section).to_contain_text("6 courses ended in the period; 6 are finished courses")
    expect(section).to_contain_text("PHQ-9 down by 6 or more, or GAD-7 down by 4 or more")
    clinic_row = section.get_by_role("table", name="Outcomes as services report them: Clinic")
    expect(clinic_row.get_by_role("row", name="Clinic")).to_contain_text("5 of 6 (83%)")
    expect(clinic_row.get_by_role("row", name="Clinic")).to_contain_text("1 of 6 (17%)")
    # Nothing but the wide tables scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / f"outcomes-recovery-{width}.png"))

    with page.expect_download() as download:
        section.get_by_role("link", name="Export these figures as CSV").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    clinic = next(row for row in rows if row["breakdown"] == "clinic")
    assert clinic["recovered"] == "5"
    assert clinic["reliably_deteriorated"] == "<5"
