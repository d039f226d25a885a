"""Homework that asks the right questions (issue 23, point 3), on a phone and at the desk: the
patient writes a communication practice and two days of a mood log, rereads and changes one;
the therapist sees them laid out in the next note and reviews them; the patient then finds
them read-only. Axe on every page."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from phases.models import Phase
from sessions import services
from sessions.models import AssignmentStatus, HomeworkEntry
from tests.factories import (
    AssignmentFactory,
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    SessionFactory,
)

from .conftest import checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _scene():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=alice, first_name="Rachel", last_name="Kemp")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    now = timezone.now()
    set_in = SessionFactory(
        course=course, scheduled_start=now - timedelta(days=6), status="attended"
    )
    practice = AssignmentFactory(
        course=course,
        session=set_in,
        kind="communication",
        title="Ask Marcus for twenty minutes on Sunday",
        instructions="Start with what you want for the three of you.",
    )
    log = AssignmentFactory(
        course=course,
        session=set_in,
        kind="log",
        title="Each evening: your mood and who you were with",
        instructions="A line or two a day.",
    )
    next_session = SessionFactory(
        course=course, scheduled_start=now - timedelta(hours=1), status="attended"
    )
    services.note_start(session=next_session, by=alice)
    _link, url = portal_link_create(patient=patient, by=alice)
    return alice, device, practice, log, next_session, urlsplit(url).path


def _day(day) -> str:
    return formats.date_format(day, "l j F")


def test_a_patient_writes_rereads_and_changes_entries_then_the_therapist_reviews_them(
    browser, live_server, page: Page
):
    alice, device, practice, log, next_session, link_path = _scene()
    today = timezone.localdate(timezone=practice.clinic.tz)
    yesterday = today - timedelta(days=1)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(link_path)
    checked(page)
    page.get_by_role("button", name="Open my page").click()
    checked(page)
    page.get_by_role("link", name="Your homework").click()
    checked(page)

    # A communication practice: its four questions.
    page.get_by_role("link", name=re.compile(r"Tell us how it went\W+Ask Marcus")).click()
    checked(page)
    page.get_by_label("What I said").fill("Could we have twenty minutes on Sunday, just us?")
    page.get_by_label("How they responded (optional)").fill("He asked what about, then said yes.")
    page.get_by_label("How I felt, from 0 to 10").fill("6")
    page.get_by_label("What I would do next time (optional)").fill("Ask at a calmer moment.")
    page.get_by_role("button", name="Save this entry").click()
    expect(page.get_by_text("Saved. You can read it below")).to_be_visible()
    expect(page.get_by_text("He asked what about, then said yes.")).to_be_visible()
    checked(page)

    # Two days of the mood log; a mood of 12 is refused with what was typed kept.
    page.get_by_role("link", name="Homework", exact=True).click()
    checked(page)
    page.get_by_role("link", name=re.compile(r"Tell us how it went\W+Each evening")).click()
    checked(page)
    page.get_by_label("Which day").fill(yesterday.isoformat())
    page.get_by_label("My mood that day, from 0 to 10").fill("12")
    page.get_by_label("Who I spent time with (optional)").fill("Marcus, Evie")
    page.get_by_label("What happened (optional)").fill("Quiet evening, not tense.")
    page.get_by_role("button", name="Save this entry").click()
    expect(page.get_by_text("Choose a number from 0 to 10.")).to_be_visible()
    expect(page.get_by_label("What happened (optional)")).to_have_value("Quiet evening, not tense.")
    checked(page)
    page.get_by_label("My mood that day, from 0 to 10").fill("4")
    page.get_by_role("button", name="Save this entry").click()
    expect(page.get_by_text("Saved. You can read it below")).to_be_visible()
    checked(page)
    page.get_by_label("Which day").fill(today.isoformat())
    page.get_by_label("My mood that day, from 0 to 10").fill("6")
    page.get_by_label("Who I spent time with (optional)").fill("Jo")
    page.get_by_label("What happened (optional)").fill("Park with Evie, tea with Jo.")
    page.get_by_role("button", name="Save this entry").click()
    expect(page.get_by_text("Park with Evie, tea with Jo.")).to_be_visible()
    checked(page)

    # Reread yesterday's and change it.
    page.get_by_role("link", name=re.compile(rf"Change this entry\W+{_day(yesterday)}")).click()
    checked(page)
    expect(page.get_by_label("What happened (optional)")).to_have_value("Quiet evening, not tense.")
    page.get_by_label("My mood that day, from 0 to 10").fill("5")
    page.get_by_role("button", name="Save my changes").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    checked(page)
    assert list(HomeworkEntry.objects.filter(assignment=log).values_list("entry_date", "mood")) == [
        (yesterday, 5),
        (today, 6),
    ]
    portal_url = page.url

    # The therapist, at the desk: the next note lays them out, and she reviews them.
    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    staff = desk.new_page()
    staff.js_errors = []
    staff.on("pageerror", lambda error: staff.js_errors.append(str(error)))
    try:
        log_in(staff, "alice", device)
        staff.goto(reverse("therapy:note", args=[next_session.pk]))
        checked(staff)
        table = staff.get_by_role("table", name=re.compile("Mood and interpersonal log: 2 days"))
        expect(table.get_by_role("row")).to_have_count(3)
        expect(table.get_by_role("row").nth(1)).to_contain_text("Marcus, Evie")
        expect(table.get_by_role("row").nth(1)).to_contain_text("5")
        expect(table.get_by_role("row").nth(2)).to_contain_text("Park with Evie, tea with Jo.")
        expect(
            staff.get_by_text("Could we have twenty minutes on Sunday, just us?")
        ).to_be_visible()
        expect(staff.get_by_text("Ask at a calmer moment.")).to_be_visible()
        staff.get_by_label("“Ask Marcus for twenty minutes on Sunday”").select_option("done")
        staff.get_by_label("“Each evening: your mood and who you were with”").select_option("done")
        staff.get_by_label("Risk check").select_option(label="No current risk identified")
        staff.get_by_role("button", name="Save", exact=True).click()
        expect(staff.get_by_text("Note saved")).to_be_visible()
        checked(staff)
        staff.goto(reverse("phases:course", args=[practice.course_id]))
        expect(staff.locator("#course-homework")).to_contain_text(
            "the patient's entries are locked"
        )
        checked(staff)
    finally:
        desk.close()
    log.refresh_from_db()
    assert (log.status, log.reviewed_in_id) == (AssignmentStatus.DONE, next_session.pk)

    # The patient again: everything is there to read, nothing to change.
    page.goto(portal_url)
    checked(page)
    page.get_by_role("link", name="Homework", exact=True).click()
    checked(page)
    page.get_by_role("link", name="Each evening: your mood and who you were with").click()
    expect(page.get_by_text("it can no longer be changed")).to_be_visible()
    expect(page.get_by_text("Park with Evie, tea with Jo.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Change this entry"))).to_have_count(0)
    expect(page.get_by_role("button", name="Save this entry")).to_have_count(0)
    checked(page)
