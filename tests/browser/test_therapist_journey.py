"""A therapist's course from the first login to a signed note, through the browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import Patient
from phases.models import Phase, TreatmentCourse
from sessions.models import Assignment, SessionNote, TherapySession
from tests.factories import ClinicFactory

from .conftest import checked
from .helpers import in_days, log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _go(page: Page, link_name: str) -> Page:
    page.get_by_role("link", name=link_name).first.click()
    return checked(page)


def _save(page: Page, button: str = "Save") -> Page:
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return checked(page)


def _advance(page: Page, to_phase: str) -> None:
    page.get_by_role("button", name="Move to the next phase").click()
    expect(page.get_by_role("heading", name=to_phase, exact=True)).to_be_visible()
    checked(page)


def _book_session(page: Page, days_ahead: int) -> None:
    _go(page, "Book a session")
    page.get_by_label("Date").fill(in_days(days_ahead))
    _save(page, "Book")
    expect(page.get_by_role("heading", name=re.compile(r"^Next: session \d+ of"))).to_be_visible()


def _hold_session(page: Page, hours_ago: int) -> None:
    """The booked session's day comes (its start is put ``hours_ago``): the patient attends."""
    session = TherapySession.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[-1]))
    TherapySession.objects.filter(pk=session.pk).update(
        scheduled_start=timezone.now() - timedelta(hours=hours_ago)
    )
    page.reload()
    page.get_by_label("Attended", exact=True).check()
    _save(page, "Record")
    expect(page.get_by_role("heading", name=re.compile(r"^Session \d+ of"))).to_be_visible()


def _enter_phq9(page: Page, answers: list[int]) -> None:
    _go(page, "Enter PHQ-9")
    questions = page.locator("form fieldset")
    expect(questions).to_have_count(9)
    for index, answer in enumerate(answers):
        questions.nth(index).get_by_role("radio").nth(answer).check()
    _save(page, "Record")
    expect(page.get_by_role("heading", name="Questionnaires")).to_be_visible()


def _section(page: Page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def _back_to_course(page: Page, course) -> None:
    page.goto(f"/courses/{course.pk}/")
    checked(page)


def test_it_takes_a_patient_from_first_login_to_a_signed_note(page: Page):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    log_in(page, "alice", device)

    # A new patient.
    page.goto("/patients/new/")
    checked(page)
    page.get_by_label("Clinic record number").fill("RC-1001")
    page.get_by_label("First name").fill("Jamie")
    page.get_by_label("Last name").fill("Rivers")
    page.get_by_label("Email").fill("jamie@example.org")
    _save(page)
    expect(page.get_by_role("heading", name="Jamie Rivers")).to_be_visible()
    patient = Patient.objects.get(record_number="RC-1001")
    assert patient.primary_therapist == therapist

    # The interpersonal inventory: three people.
    for name, kind in [("Sam", "Partner / spouse"), ("Mum", "Parent"), ("Priya", "Friend")]:
        _go(page, "Add a person")
        page.get_by_label("Name or alias").fill(name)
        page.get_by_label("Relationship", exact=False).first.select_option(label=kind)
        _save(page)
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    assert patient.relationships.count() == 3

    # The course, with its contract agreed today.
    _go(page, "Start an IPT course")
    page.get_by_label("Contract agreed on").fill(in_days(0))
    _save(page, "Start the course")
    course = TreatmentCourse.objects.get(patient=patient)
    expect(page).to_have_url(re.compile(rf"/courses/{course.pk}/$"))
    assert course.phase == Phase.INITIAL

    # Initial assessment: a session with the baseline PHQ-9.
    _book_session(page, days_ahead=1)
    _hold_session(page, hours_ago=26)
    _enter_phq9(page, answers=[2, 2, 1, 2, 1, 1, 2, 1, 0])
    course.refresh_from_db()
    assert course.baseline_phq9 == 12
    _back_to_course(page, course)
    # The initial assessment also weighs medication and a referral elsewhere.
    _section(page, "Contract and assessment").get_by_role("link", name="Edit").click()
    checked(page)
    page.get_by_label("Medication considered").check()
    page.get_by_label("Referral elsewhere considered").check()
    page.get_by_label("What was decided about medication and referral").fill(
        "Mild to moderate: IPT alone for now; GP informed."
    )
    _save(page)
    _advance(page, "Social assessment")

    # Social assessment: a problem area and the formulation.
    _go(page, "Add a problem area")
    page.get_by_label("Kind").select_option(label="Role dispute")
    sam = patient.relationships.get(name="Sam")
    page.get_by_label("Other party").select_option(value=str(sam.pk))
    page.get_by_label("Stage now").select_option(label="Renegotiation")
    _save(page)
    expect(page.get_by_role("heading", name="Role dispute")).to_be_visible()
    _section(page, "Interpersonal formulation").get_by_role("link", name="Edit").click()
    checked(page)
    page.get_by_label("Formulation").fill(
        "Low mood began when arguments with Sam about the move became constant."
    )
    page.get_by_label("Date the patient agreed to it").fill(in_days(0))
    _save(page)
    _advance(page, "Problem-solving strategies")

    # Problem-solving: a goal, then a session with a PHQ-9, a note that reviews the goal,
    # homework, and the signature.
    _go(page, "Set a goal")
    page.get_by_label("Text").fill("Talk with Sam about the move without shouting")
    _save(page)
    expect(page.get_by_text("not yet reviewed")).to_be_visible()
    _book_session(page, days_ahead=2)
    _hold_session(page, hours_ago=1)
    _enter_phq9(page, answers=[1, 1, 1, 1, 1, 0, 1, 0, 0])

    page.get_by_role("button", name=re.compile(r"^Write the note")).click()
    checked(page)
    page.get_by_label("Interpersonal events since last session").fill(
        "Sam and Jamie talked about the move on Sunday; no shouting."
    )
    page.get_by_label("Progress on “Talk with Sam about the move without shouting”").fill("4")
    page.get_by_label("Risk check").select_option(label="No current risk identified")
    page.get_by_label("Other notes").fill("Role-played the next conversation.")
    _save(page)
    expect(page.get_by_text("Draft, not signed")).to_be_visible()

    _go(page, "Set homework")
    page.get_by_label("Title").fill("Ask Sam for twenty minutes to plan the move")
    page.get_by_label("Instructions").fill("Choose a calm moment; use the opening we practised.")
    page.get_by_label("Kind").select_option(label="Communication practice")
    page.get_by_label("Due date").fill(in_days(6))
    _save(page, "Set homework")
    expect(page.get_by_text("Homework set.")).to_be_visible()

    _go(page, "Sign and lock…")
    expect(page.get_by_text("Once signed, none of this can change")).to_be_visible()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    checked(page)
    note = SessionNote.objects.get(session__course=course, phase=Phase.PROBLEM_SOLVING)
    assert note.signed_at is not None and note.signed_by == therapist
    assert Assignment.objects.filter(course=course, title__startswith="Ask Sam").exists()

    # The reviewed goal lets the course move on; the relapse-prevention plan ends it.
    _back_to_course(page, course)
    expect(page.get_by_text("not yet reviewed")).to_have_count(0)
    _advance(page, "Termination / relapse prevention")
    _section(page, "Relapse-prevention plan").get_by_role("link", name="Write the plan").click()
    checked(page)
    page.get_by_label("Warning signs").fill("Staying in bed; avoiding Priya's calls.")
    page.get_by_label("Coping strategies").fill("A walk every morning; say what I need early.")
    page.get_by_label("Priya").check()
    page.get_by_label("If symptoms return").fill("Call the clinic and book a review session.")
    _save(page)
    # The ending: the goal's outcome (the PHQ-9 fell by half: no decision needed), then the
    # confirmation that lists what ending the course cancels before it is done.
    page.get_by_role("link", name="Complete the course…").click()
    checked(page)
    page.get_by_label("Talk with Sam about the move without shouting").select_option(
        label="Achieved"
    )
    _save(page, "Save and continue")
    page.get_by_role("button", name="Complete the course").click()
    page.wait_for_load_state()
    checked(page)
    course.refresh_from_db()
    assert course.phase == Phase.COMPLETED
    assert list(course.transitions.values_list("overridden", flat=True)) == [False] * 5
