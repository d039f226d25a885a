"""Grief names a person of the inventory marked as died (issue 22, point 2), through the
browser: the inventory form marks Mum as died with the date, the grief area offers only her,
its manual fields land on the course page; and the therapist's home flags a mid-course review
once overdue. Screenshots at 1366 px go to /tmp/shots/iptphases/."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import Relationship
from phases.models import Phase, ProblemArea
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, RelationshipFactory

from .conftest import checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots/iptphases")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_grief_area_names_a_person_marked_as_died(page: Page):
    page.set_viewport_size({"width": 1366, "height": 900})
    clinic = ClinicFactory(name="Northgate", slug="northgate")
    therapist, device = staff_with_authenticator(
        username="anna",
        first_name="Anna",
        last_name="Whitfield",
        clinic=clinic,
        role=Role.THERAPIST,
    )
    patient = PatientFactory(primary_therapist=therapist, first_name="Owen", last_name="Price")
    RelationshipFactory(patient=patient, name="Sis", kind="sibling")
    course = CourseFactory(patient=patient, phase=Phase.SOCIAL)
    # Another patient, past the halfway session with no review: flagged on the home page.
    CourseFactory(
        patient=PatientFactory(primary_therapist=therapist, first_name="Lena", last_name="Hart"),
        phase=Phase.PROBLEM_SOLVING,
        planned_sessions=12,
        sessions_attended=7,
    )
    log_in(page, "anna", device)

    page.goto(f"/patients/{patient.pk}/")
    checked(page)
    page.get_by_role("link", name="Add a person").first.click()
    checked(page)
    page.get_by_label("Name or alias").fill("Mum")
    page.get_by_label("Relationship", exact=False).first.select_option(label="Parent")
    page.get_by_label("Has died").check()
    page.get_by_label("Died on (if known)").fill("2025-06-14")
    _shot(page, "inventory-person-died")
    page.get_by_role("button", name="Save").click()
    checked(page)
    expect(page.get_by_text("Parent · died 2025")).to_be_visible()
    mum = Relationship.objects.get(patient=patient, name="Mum")
    assert (mum.kind, mum.deceased) == ("parent", True)

    page.goto(f"/courses/{course.pk}/problem-areas/new/")
    checked(page)
    page.get_by_label("Kind").select_option(label="Grief")
    who = page.get_by_label("Who died")
    expect(who.locator("option")).to_have_text(["- Select an option -", "Mum (parent, died 2025)"])
    who.select_option(label="Mum (parent, died 2025)")
    page.get_by_label("The relationship with them, reconstructed").fill(
        "She raised him alone; proud of him, never said so."
    )
    page.get_by_label("Mourning", exact=True).select_option(label="Normal mourning")
    page.get_by_label("Anniversaries").fill("14 June; her birthday in October.")
    _shot(page, "problem-area-grief-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Problem area added.")).to_be_visible()
    checked(page)
    expect(page.get_by_text("Who died: Mum (parent, died 14 Jun 2025)")).to_be_visible()
    expect(page.get_by_text("She raised him alone; proud of him, never said so.")).to_be_visible()
    assert ProblemArea.objects.get(course=course).deceased == mum

    page.goto("/caseload/home/")
    checked(page)
    flag = page.get_by_role("link", name="Mid-course review overdue (session 6)")
    expect(flag).to_have_count(1)
    _shot(page, "home-review-overdue")
    flag.click()
    checked(page)
    expect(
        page.get_by_role("heading", name=re.compile("^Mid-course review — Lena Hart"))
    ).to_be_visible()
