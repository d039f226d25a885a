"""A clinic admin reviews the clinic: the dashboard, a filtered caseload, a drill-down from a
figure, a CSV export, and a reassignment to another therapist."""

import csv
import io

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from phases.models import Phase, TreatmentCourse
from sessions.models import Measure
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, UserFactory

from .conftest import checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _clinic_with_two_caseloads():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    _admin, device = staff_with_authenticator(
        username="carol",
        first_name="Carol",
        last_name="Admin",
        clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )
    alice = UserFactory(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    bob = UserFactory(
        username="bob", first_name="Bob", last_name="Quinn", clinic=clinic, role=Role.THERAPIST
    )
    courses = {}
    for first, therapist, phase in [
        ("Jamie", alice, Phase.PROBLEM_SOLVING),
        ("Robin", alice, Phase.SOCIAL),
        ("Kai", bob, Phase.INITIAL),
    ]:
        patient = PatientFactory(primary_therapist=therapist, first_name=first, last_name="Test")
        courses[first] = CourseFactory(patient=patient, phase=phase)
    Measure.objects.create(
        clinic=clinic,
        course=courses["Jamie"],
        instrument="phq9",
        answers=[2, 2, 2, 2, 1, 1, 1, 1, 1],
        total=13,
        severity="moderate",
        risk_flag=True,
        taken_at=timezone.now(),
        entered_by=alice,
    )
    return device, alice, bob, courses


def test_it_lets_a_clinic_admin_review_export_and_reassign(page: Page):
    device, alice, bob, courses = _clinic_with_two_caseloads()
    log_in(page, "carol", device)

    # The dashboard, then a drill-down from Alice's open risk flags.
    expect(page.get_by_role("heading", name="Riverside Clinic: caseload review")).to_be_visible()
    page.get_by_role("link", name="Alice Owen — Open risk flags: 1").click()
    checked(page)
    expect(page.get_by_role("heading", name="Open risk flags")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Jamie Test")

    # The whole caseload, filtered to Alice's courses in social assessment.
    page.get_by_role("link", name="Caseload", exact=True).click()
    checked(page)
    expect(rows).to_have_count(3)
    page.get_by_label("Therapist").select_option(label="Alice Owen")
    page.get_by_label("Phase").select_option(label="Social assessment")
    page.get_by_role("button", name="Apply").click()
    checked(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Robin Test")

    # The CSV of what is on screen.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as exported:
        table = list(csv.reader(io.StringIO(exported.read())))
    assert len(table) == 2, table  # the header and Robin's course
    assert any("Robin" in cell for cell in table[1])

    # Reassign Robin from Alice to Bob.
    page.get_by_role("link", name="Reassign Robin Test").click()
    checked(page)
    row = page.locator("tbody tr").filter(has_text="Robin Test")
    row.get_by_label("Reassign Robin Test to").select_option(label="Bob Quinn")
    row.get_by_label("Reason").fill("Alice is on leave for three months.")
    row.get_by_role("button", name="Reassign").click()
    page.wait_for_load_state()
    checked(page)
    # The preview says what moves; nothing has moved until it is confirmed.
    expect(page.get_by_role("heading", name="From Alice Owen to Bob Quinn")).to_contain_text(
        "1 patient"
    )
    page.get_by_role("button", name="Move the ticked patients to Bob Quinn").click()
    page.wait_for_load_state()
    checked(page)
    robin = TreatmentCourse.objects.select_related("patient").get(pk=courses["Robin"].pk)
    assert robin.therapist == bob
    assert robin.patient.primary_therapist == bob
    # Robin has left Alice's list; Jamie stays.
    expect(page.locator("tbody tr").filter(has_text="Robin Test")).to_have_count(0)
    expect(page.locator("tbody tr").filter(has_text="Jamie Test")).to_have_count(1)
