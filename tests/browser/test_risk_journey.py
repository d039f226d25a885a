"""A patient answers question 9 of the PHQ-9 in the portal on a phone; the page tells her the
truth (who was alerted, tap-to-call numbers). Her therapist follows the alert's link, sees the
risk badge in the patient header, acknowledges the flag and closes it from the session note;
the note then signs."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from notifications.models import Notification
from patients.portal_links import portal_link_create
from sessions.models import Measure, SessionNote
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, SessionFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_item_9_answer_is_alerted_acknowledged_and_closed_from_the_note(
    page: Page, browser, live_server
):
    clinic = ClinicFactory(name="Northgate Clinic", slug="northgate", phone="0161 496 0000")
    clinic.duty_email = "duty@northgate.example"
    clinic.save()
    therapist, device = staff_with_authenticator(
        username="anna", clinic=clinic, role=Role.THERAPIST, first_name="Anna"
    )
    patient = PatientFactory(
        clinic=clinic, primary_therapist=therapist, first_name="Rachel", last_name="Kemp"
    )
    course = CourseFactory(patient=patient)
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=6))
    link_url = portal_link_create(patient=patient, by=therapist)[1]

    # The patient, on a phone.
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    portal = phone.new_page()
    portal.js_errors = []
    portal.on("pageerror", lambda error: portal.js_errors.append(str(error)))
    portal.goto(urlsplit(link_url).path)
    portal.get_by_role("button", name="Open my page").click()
    portal.goto("/p/questionnaires/phq9/")
    for number in range(1, 9):
        portal.locator(f"input[name='item_{number}'][value='1']").check()
    portal.locator("input[name='item_9'][value='2']").check()
    portal.get_by_role("button", name="Send my answers").click()
    crisis = portal.get_by_role("alert")
    expect(crisis).to_contain_text(
        "We have told your therapist and the clinic's duty clinician about your answers now."
    )
    expect(crisis.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
    expect(crisis.get_by_role("link", name="0161 496 0000")).to_have_attribute(
        "href", "tel:01614960000"
    )
    checked(portal)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    portal.screenshot(path=str(ARTIFACTS / "portal-item-9.png"), full_page=True)
    phone.close()

    measure = Measure.objects.get(course=course, risk_flag=True)
    assert Notification.objects.filter(kind="risk_alert", about_id=measure.pk).count() == 2

    # The therapist follows the alert's link, logs in and lands on the flag.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/sessions/risk/{measure.pk}/")
    log_in(page, "anna", device)
    page.goto(f"/sessions/risk/{measure.pk}/")
    expect(page.get_by_role("heading", name="Risk flag · Rachel Kemp")).to_be_visible()
    header = page.get_by_role("region", name="Patient")
    expect(header.get_by_role("link", name="Risk flag open")).to_be_visible()
    expect(header).to_contain_text("Next")
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "risk-flag.png"), full_page=True)
    page.get_by_role("button", name="I have seen it and am dealing with it").click()
    expect(page.get_by_text("Risk flag acknowledged")).to_be_visible()

    # She writes the note and closes the flag from its risk section.
    page.goto(f"/sessions/{session.pk}/")
    page.get_by_role("button", name=re.compile("Write the note")).click()
    page.get_by_label("Risk check").select_option(index=1)
    page.get_by_role("button", name="Save").click()
    page.goto(f"/sessions/{session.pk}/note/")
    risk = page.locator("#risk")
    risk.get_by_label("Safety plan reviewed").check()
    risk.get_by_label("What was done and agreed").fill(
        "Passive thoughts, no plan; safety plan agreed."
    )
    risk.get_by_role("button", name="Close the flag in this note").click()
    expect(page.locator("#risk")).to_contain_text("Closed in this note")
    checked(page)
    page.screenshot(path=str(ARTIFACTS / "note-risk-closed.png"), full_page=True)
    expect(page.get_by_role("region", name="Patient").get_by_text("Risk flag open")).to_have_count(
        0
    )
    measure.refresh_from_db()
    note = SessionNote.objects.get(session=session)
    assert measure.risk_closed_in_note == note and measure.risk_action == "safety_plan_reviewed"
