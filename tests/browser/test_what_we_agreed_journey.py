"""What we agreed (issue 23, point 1), on a phone-sized screen: the therapist writes the
formulation in the patient's words and shares it, the patient reads it in the portal and
agrees, and the therapist sees the answer on their home and the course page. Screenshots at
390 px go to /tmp/shots/agreed/."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from phases.models import FormulationAnswer, FormulationShare, Phase
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
)

from .conftest import checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots/agreed")
PHONE = {"width": 390, "height": 844}
CLINICAL = "Onset after retirement: role transition, loss of work identity and routine."
PLAIN = "Your low mood began when you retired and lost the company and routine of work."


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_therapist_shares_the_patient_agrees_the_therapist_sees_it(
    browser, live_server, page: Page
):
    page.set_viewport_size(PHONE)
    clinic = ClinicFactory(name="Northgate", slug="northgate")
    therapist, device = staff_with_authenticator(
        username="anna",
        first_name="Anna",
        last_name="Whitfield",
        clinic=clinic,
        role=Role.THERAPIST,
    )
    patient = PatientFactory(primary_therapist=therapist, first_name="Owen", last_name="Price")
    course = CourseFactory(
        patient=patient, phase=Phase.SOCIAL, planned_sessions=12, formulation=CLINICAL
    )
    GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Join the walking group")
    SessionFactory(course=course, status="attended")
    SessionFactory(course=course)  # the next appointment
    _link, url = portal_link_create(patient=patient, by=therapist)

    # The therapist writes the formulation in Owen's words and shares it.
    log_in(page, "anna", device)
    page.goto(f"/courses/{course.pk}/")
    checked(page)
    page.get_by_role("link", name="Write and share").click()
    expect(page.get_by_role("heading", name="The formulation in Owen's words")).to_be_visible()
    words = page.get_by_label("In the patient's words")
    expect(words).to_have_value(CLINICAL)  # prefilled from the clinical formulation
    checked(page)
    words.fill(PLAIN)
    _shot(page, "therapist-writes")
    page.get_by_role("button", name="Share with Owen").click()
    expect(page.get_by_text("Shared with Owen")).to_be_visible()
    expect(page.get_by_text("Owen has not answered yet.")).to_be_visible()
    checked(page)
    assert FormulationShare.objects.get(course=course).text == PLAIN

    # Owen, on his phone, in his own browser.
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    patient_page = context.new_page()
    patient_page.js_errors = []  # as the page fixture keeps them, for checked()
    patient_page.on("pageerror", lambda error: patient_page.js_errors.append(str(error)))
    patient_page.goto(urlsplit(url).path)
    checked(patient_page)
    patient_page.get_by_role("button", name="Open my page").click()
    expect(patient_page.get_by_role("heading", name="Hello Owen")).to_be_visible()
    expect(patient_page.get_by_text("New for you to read")).to_be_visible()
    checked(patient_page)
    _shot(patient_page, "portal-home")
    patient_page.get_by_role("link", name=re.compile("What we agreed")).click()
    expect(patient_page.get_by_role("heading", name="What we agreed", exact=True)).to_be_visible()
    expect(patient_page.get_by_text(PLAIN)).to_be_visible()
    expect(patient_page.get_by_text(CLINICAL)).to_have_count(0)
    expect(patient_page.get_by_text("Join the walking group")).to_be_visible()
    expect(patient_page.get_by_text("1 of 12 sessions held")).to_be_visible()
    checked(patient_page)
    # Sent without a choice: told so, the comment kept.
    patient_page.get_by_label("Anything you would like to add").fill("Yes, that is it.")
    patient_page.get_by_role("button", name="Send my answer").click()
    expect(patient_page.get_by_text("Please choose one of the two answers.")).to_be_visible()
    expect(patient_page.get_by_label("Anything you would like to add")).to_have_value(
        "Yes, that is it."
    )
    checked(patient_page)
    patient_page.get_by_label("I agree").check()
    patient_page.get_by_role("button", name="Send my answer").click()
    expect(patient_page.get_by_text("Your therapist will see your answer.")).to_be_visible()
    expect(patient_page.get_by_text(re.compile("You said you agree on"))).to_be_visible()
    checked(patient_page)
    _shot(patient_page, "portal-agreed")
    assert FormulationAnswer.objects.get().answer == "agree"

    patient_page.get_by_role("link", name="About this therapy (IPT)").click()
    expect(patient_page.get_by_role("heading", name="About this therapy")).to_be_visible()
    expect(patient_page.get_by_text("Looking at the people in your life").first).to_be_visible()
    checked(patient_page)
    _shot(patient_page, "portal-about-ipt")
    context.close()

    # Anna sees the answer on her home and on the course page.
    page.goto("/")
    expect(page.get_by_text("agreed with the formulation you shared")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="agreed with the formulation you shared").click()
    expect(page.get_by_text("Owen answered “I agree”")).to_be_visible()
    expect(page.get_by_text("Their comment: “Yes, that is it.”")).to_be_visible()
    checked(page)
    _shot(page, "therapist-sees-answer")
