"""A patient's personal link followed where a clinician is logged in (checking what was sent,
a link forwarded to them): the link's page says so, the portal does not open there, and the
staff session goes on as before."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from tests.factories import ClinicFactory, CourseFactory, PatientFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_it_keeps_the_clinician_logged_in_and_the_portal_closed(browser, live_server, page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist, device = staff_with_authenticator(
        username="alice", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=therapist, first_name="Jamie", last_name="Rivers")
    CourseFactory(patient=patient)
    _link, url = portal_link_create(patient=patient, by=therapist)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "alice", device)

    page.goto(urlsplit(url).path)
    expect(
        page.get_by_role("heading", name="You are signed in as a member of staff")
    ).to_be_visible()
    expect(page.get_by_text("open the link in a private window")).to_be_visible()
    expect(page.get_by_role("button", name="Open my page")).to_have_count(0)
    expect(page.get_by_text("Jamie")).to_have_count(0)
    checked(page)
    _shot(page, "portal-link-in-a-staff-browser.png")

    page.get_by_role("link", name="Back to your work").click()
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name="Jamie Rivers")).to_be_visible()
