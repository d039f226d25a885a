"""A clinic admin opens Settings from the review's nav, is told plainly what is wrong with
quiet hours typed the wrong way round, and saves the clinic's zone, quiet hours, crisis line
and duty contact: one click to the page, one to save."""

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Clinic, Role
from tests.factories import ClinicFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clinic_admin_changes_the_clinics_settings(page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    _admin, device = staff_with_authenticator(
        username="carol", clinic=clinic, role=Role.CLINIC_ADMIN, first_name="Carol"
    )
    staff_with_authenticator(
        username="bob", clinic=clinic, first_name="Bob", last_name="Quinn", email="bob@example.org"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "carol", device)

    page.get_by_role("navigation", name="Clinic review").get_by_role(
        "link", name="Settings"
    ).click()
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    checked(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clinic-settings.png"), full_page=True)

    page.get_by_label("Quiet hours from").fill("08:00")
    page.get_by_label("Quiet hours until").fill("21:00")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Did you mean from 21:00 to 08:00?")).to_be_visible()
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "clinic-settings-refused.png"), full_page=True)

    page.get_by_label("Quiet hours from").fill("21:30")
    page.get_by_label("Quiet hours until").fill("07:30")
    page.get_by_label("Time zone").select_option("Europe/Dublin")
    page.get_by_label("Crisis line", exact=True).fill("Samaritans Ireland")
    page.get_by_label("Crisis line's number").fill("116 123")
    page.get_by_label("Emergency number").fill("112")
    page.get_by_label("Member of staff on duty").select_option(
        label="Bob Quinn (therapist, bob@example.org)"
    )
    page.get_by_label("Duty contact's mobile").fill("087 123 4567")
    page.get_by_label("Alert again if a risk flag is not acknowledged within").select_option("120")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    in_use = page.get_by_role("complementary")
    expect(in_use).to_contain_text("Emergency services: 112")
    expect(in_use).to_contain_text("Samaritans Ireland: 116 123")
    expect(in_use).to_contain_text("and Bob Quinn (bob@example.org, text to 087 123 4567)")
    expect(in_use).to_contain_text("Not acknowledged within 2 hours")
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "clinic-settings-saved.png"), full_page=True)

    clinic = Clinic.objects.get(pk=clinic.pk)
    assert (clinic.time_zone, clinic.escalation_minutes, clinic.emergency_number) == (
        "Europe/Dublin",
        120,
        "112",
    )
