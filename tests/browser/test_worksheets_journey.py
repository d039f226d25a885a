"""A role-dispute course's middle sessions through the browser: a communication analysis and a
role play written in one session, the role play's follow-on set as homework with one click,
both read in the next session's note and listed on the course page. Screenshots at 1366 px
(SCREENSHOTS=1) go to test-artifacts/browser/."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from notifications.models import Notification
from phases.models import Phase
from sessions.models import Assignment, Worksheet
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _shot(page: Page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"worksheets_{name}_1366.png"), full_page=True)


def test_worksheets_written_in_one_session_are_read_in_the_next_note(page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(
        primary_therapist=alice, first_name="Rachel", last_name="Kemp", email="rachel@example.org"
    )
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    ProblemAreaFactory(course=course, kind="role_dispute", old_role="", new_role="")
    RelationshipFactory(patient=patient, name="Marcus", kind="partner", ring=1)
    last_week = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=7),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    today = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(hours=1),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    log_in(page, "alice", device)
    page.set_viewport_size({"width": 1366, "height": 900})

    # Last week's session: a communication analysis of the row about coming home late.
    page.goto(f"/sessions/{last_week.pk}/")
    checked(page)
    page.get_by_role("link", name="Communication analysis").click()
    expect(page.get_by_role("heading", name="Communication analysis · Rachel Kemp")).to_be_visible()
    page.get_by_label("Problem area").select_option(label="Role dispute")
    page.get_by_label("The other person (from the inventory)").select_option(
        label="Marcus (Partner / spouse)"
    )
    page.get_by_label("The incident").fill("Marcus came home two hours late without calling.")
    page.get_by_label("What the patient said").fill("You never think about anyone but yourself.")
    page.get_by_label("What the patient meant").fill("I was frightened something had happened.")
    page.get_by_label("What the other person said").fill("Here we go again.")
    page.get_by_label("How it was heard").fill("She heard contempt; he heard an attack.")
    page.get_by_label("What the patient felt").fill("Hurt, then furious.")
    page.get_by_label("Alternatives considered").fill("Say she was worried; ask for a text.")
    page.get_by_label("What the patient will try").fill("Tell him how the waiting feels.")
    checked(page)
    _shot(page, "communication_analysis_form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Communication analysis saved.")).to_be_visible()
    worksheets = page.locator("#session-worksheets")
    expect(worksheets).to_contain_text("Marcus came home two hours late")

    # A role play of asking for a text, and its follow-on set as homework in one click.
    page.get_by_role("link", name="Role play").click()
    page.get_by_label("Problem area").select_option(label="Role dispute")
    page.get_by_label("The person the scene is with").select_option(
        label="Marcus (Partner / spouse)"
    )
    page.get_by_role("textbox", name="The scene").fill("Asking Marcus to text when he will be late")
    page.get_by_label("Who played whom").fill("Rachel as herself, Alice as Marcus; then swapped")
    page.get_by_label("What was rehearsed").fill("'I worry when I don't hear' for 'you never'")
    page.get_by_label("How it went").fill("Stiff at first; by the third try she kept calm.")
    page.get_by_label("Follow-on homework").fill("Say it to Marcus once this week, calmly.")
    checked(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Role play saved.")).to_be_visible()
    page.get_by_role("button", name="Set the follow-on as homework").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Homework set: “Role-play practice: Asking Marcus"
    )
    homework = page.locator("section", has=page.locator("#homework-heading"))
    expect(homework).to_contain_text("Say it to Marcus once this week, calmly.")
    expect(page.get_by_role("button", name="Set the follow-on as homework")).to_have_count(0)
    checked(page)
    _shot(page, "session_page")
    assignment = Assignment.objects.get(course=course)
    assert assignment.kind == "role_play" and assignment.session_id == last_week.pk
    assert Notification.objects.filter(about_type="assignment", about_id=assignment.pk).exists()

    # Today's note shows last week's worksheets, read-only.
    page.goto(f"/sessions/{today.pk}/")
    page.get_by_role("button", name="Write the note").click()
    earlier = page.locator("#earlier-worksheets")
    expect(earlier).to_contain_text("She heard contempt; he heard an attack.")
    expect(earlier).to_contain_text("Asking Marcus to text when he will be late")
    expect(earlier).to_contain_text("Homework set: “Role-play practice: Asking Marcus")
    expect(earlier.locator("textarea, input")).to_have_count(0)
    checked(page)

    # A communication analysis written from the note ticks its technique there.
    page.locator("#session-worksheets + p").get_by_role(
        "link", name="Communication analysis"
    ).click()
    page.get_by_label("Problem area").select_option(label="Role dispute")
    page.get_by_label("The incident").fill("He texted at six to say he would be late.")
    page.get_by_label("What the patient will try").fill("Thank him for the text.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Session note · Rachel Kemp")).to_be_visible()
    tick = page.get_by_label("Communication analysis — 1 worksheet")
    expect(tick).to_be_checked()
    expect(page.locator("#session-worksheets")).to_contain_text("He texted at six")
    checked(page)
    _shot(page, "next_note")

    # The course page lists both.
    page.goto(f"/courses/{course.pk}/")
    panel = page.locator("#course-worksheets")
    expect(panel.get_by_role("link", name="Communication analysis")).to_have_count(2)
    expect(panel).to_contain_text("Homework: Role-play practice: Asking Marcus")
    checked(page)
    _shot(page, "course_page")
    assert Worksheet.objects.filter(course=course, removed_at__isnull=True).count() == 3


def test_a_decision_analysis_lists_each_option_with_its_pros_and_cons(page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=alice, first_name="Rachel", last_name="Kemp")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    ProblemAreaFactory(course=course, kind="role_dispute", old_role="", new_role="")
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    log_in(page, "alice", device)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/sessions/{session.pk}/")
    page.get_by_role("link", name="Decision analysis").click()
    page.get_by_role("textbox", name="The decision").fill("Whether to stay in the marriage")
    page.get_by_label("Option 1", exact=True).fill("Ask Marcus for couples counselling")
    page.get_by_label("Pros of option 1").fill("Keeps the family together")
    page.get_by_label("Cons of option 1").fill("He may refuse")
    page.get_by_label("Option 2", exact=True).fill("Move to her sister's for a month")
    page.get_by_label("Pros of option 2").fill("Space to think")
    page.get_by_label("Cons of option 2").fill("The children's routine")
    page.get_by_text("More options (up to 8)").click()
    page.get_by_label("Option 4", exact=True).fill("Leave for good")
    page.get_by_label("The choice").fill("Counselling first")
    page.get_by_label("The first step").fill("Phone the service on Monday")
    checked(page)
    _shot(page, "decision_analysis_form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Decision analysis saved.")).to_be_visible()
    page.get_by_role("link", name="Decision analysis", exact=True).first.click()
    options = page.get_by_role("table", name="The options")
    expect(options.get_by_role("row")).to_have_count(4)
    expect(options).to_contain_text("He may refuse")
    expect(options).to_contain_text("Leave for good")
    checked(page)
    _shot(page, "decision_analysis")
