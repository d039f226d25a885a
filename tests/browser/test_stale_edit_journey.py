"""Two people correct the same patient's phone number in two browsers: the second is shown both
numbers with theirs still typed in, and saves on top knowingly. Nothing is lost in between."""

import os

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import Patient
from tests.factories import ClinicFactory, PatientFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_shows_the_second_editor_both_versions_and_keeps_their_text(browser, live_server):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, alices_device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    _carol, carols_device = staff_with_authenticator(
        username="carol",
        first_name="Carol",
        last_name="Admin",
        clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )
    patient = PatientFactory(primary_therapist=alice, first_name="Jamie", last_name="Rivers")
    pages: dict[str, Page] = {}
    for username, device in (("alice", alices_device), ("carol", carols_device)):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(10_000)
        pages[username] = context.new_page()
        pages[username].js_errors = []
        log_in(pages[username], username, device)
        pages[username].goto(f"/patients/{patient.pk}/edit/")
    admin, therapist = pages["carol"], pages["alice"]

    admin.get_by_label("Phone").fill("+44 7700 900111")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Patient details saved.")).to_be_visible()

    therapist.get_by_label("Phone").fill("+44 7700 900222")
    therapist.get_by_role("button", name="Save").click()
    conflict = therapist.locator("#stale-edit")
    expect(conflict.get_by_role("heading")).to_have_text(
        "Changed by someone else since you opened it"
    )
    expect(conflict.locator(".stale-theirs", has_text="+44 7700 900111")).to_be_visible()
    expect(conflict.locator(".stale-yours", has_text="+44 7700 900222")).to_be_visible()
    expect(therapist.get_by_label("Phone")).to_have_value("+44 7700 900222")
    checked(therapist)
    if os.environ.get("SCREENSHOTS"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        therapist.screenshot(path=str(ARTIFACTS / "stale_edit_1366.png"), full_page=True)
    assert Patient.objects.get(pk=patient.pk).phone == "+44 7700 900111"

    therapist.get_by_role("button", name="Save").click()
    expect(therapist.get_by_text("Patient details saved.")).to_be_visible()
    assert Patient.objects.get(pk=patient.pk).phone == "+44 7700 900222"
    for each in pages.values():
        each.context.close()
