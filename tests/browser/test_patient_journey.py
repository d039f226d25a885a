"""A patient in their portal, on a phone-sized screen: open the personal link, report on the
homework, fill in a PHQ-9 before the session, read the plan for staying well."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from phases.models import Phase, RelapsePreventionPlan
from sessions.models import Assignment, Measure
from tests.factories import (
    AssignmentFactory,
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    RelationshipFactory,
    SessionFactory,
    UserFactory,
)

from .conftest import checked

pytestmark = pytest.mark.django_db(transaction=True)


def _patient_near_the_end_of_a_course():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist = UserFactory(username="alice", clinic=clinic, role=Role.THERAPIST)
    patient = PatientFactory(primary_therapist=therapist, first_name="Jamie", last_name="Rivers")
    course = CourseFactory(patient=patient, phase=Phase.TERMINATION)
    past = SessionFactory(course=course, status="attended")
    SessionFactory(course=course)  # the next appointment
    assignment = AssignmentFactory(
        course=course, session=past, title="Ask Sam for twenty minutes to plan the move"
    )
    priya = RelationshipFactory(patient=patient, name="Priya")
    plan = RelapsePreventionPlan.objects.create(
        clinic=clinic,
        course=course,
        warning_signs="Staying in bed; avoiding Priya's calls.",
        coping_strategies="A walk every morning; say what I need early.",
        if_symptoms_return="Call the clinic and book a review session.",
    )
    plan.supports.add(priya)
    _link, url = portal_link_create(patient=patient, by=therapist)
    return course, assignment, urlsplit(url).path


def test_it_lets_a_patient_report_homework_answer_a_phq9_and_read_the_plan(
    browser, live_server, page: Page
):
    course, assignment, link_path = _patient_near_the_end_of_a_course()
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(link_path)
    # The link's own page shows nothing of the patient until its button is pressed.
    expect(page.get_by_role("heading", name="Your personal page")).to_be_visible()
    checked(page)
    page.get_by_role("button", name="Open my page").click()
    expect(page.get_by_role("heading", name="Hello Jamie")).to_be_visible()
    assert link_path not in page.url  # the token leaves the address bar at once
    checked(page)

    # Homework: done, with a reflection.
    page.get_by_role("link", name="Your homework").click()
    checked(page)
    page.get_by_role("link", name=re.compile(r"Tell us how it went\W+Ask Sam")).click()
    checked(page)
    page.get_by_label("I did it").check()
    page.get_by_label("A few words about how it went").fill(
        "We planned the boxes together. I felt heard."
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    checked(page)
    assignment.refresh_from_db()
    assert assignment.status == "done"
    assert assignment.reflection == "We planned the boxes together. I felt heard."
    assert assignment.completed_at is not None

    # A PHQ-9 before the next session.
    page.goto("/p/")
    page.get_by_role("link", name="Mood questionnaire (PHQ-9)").click()
    checked(page)
    questions = page.locator("form fieldset")
    expect(questions).to_have_count(9)
    for index, answer in enumerate([1, 1, 0, 1, 0, 0, 1, 0, 0]):
        questions.nth(index).get_by_role("radio").nth(answer).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    checked(page)
    measure = Measure.objects.get(course=course)
    assert (measure.instrument, measure.total, measure.risk_flag) == ("phq9", 4, False)
    assert measure.entered_by is None  # the patient, not a staff member

    # The plan for staying well.
    page.get_by_role("link", name="Back to the start").click()
    page.get_by_role("link", name="Your plan for staying well").click()
    checked(page)
    expect(page.get_by_text("Staying in bed; avoiding Priya's calls.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Priya")).to_be_visible()
    expect(page.get_by_text("Call the clinic and book a review session.")).to_be_visible()
    assert Assignment.objects.filter(course=course, status="assigned").count() == 0
