"""One role-dispute course through the browser, from its middle to maintenance (issue 22's
journey): a communication analysis and a role play that sets homework, the dispute's stage
recorded in the notes of two sessions (impasse, then renegotiation) and drawn on the course
page, the mid-course review, completion refused without a recent PHQ-9 then accepted, the
decision a patient without a response needs (maintenance IPT), and the maintenance course of 12
monthly sessions booked as a series. axe runs on every page (``checked``)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from phases.models import CourseStatus, DisputeStageEntry, Phase, TreatmentCourse
from sessions.measures import measure_record
from sessions.models import Assignment, TherapySession
from tests.factories import ClinicFactory, SessionFactory

from .conftest import checked
from .helpers import log_in, staff_with_authenticator
from .test_dispute_middle_and_end_journey import PHQ9_12, _rachel, _section

pytestmark = pytest.mark.django_db(transaction=True)


def _write_the_note(page: Page, session_pk: int, *, stage: str, showed: str, earlier="") -> None:
    page.goto(f"/sessions/{session_pk}/")
    checked(page)
    page.get_by_role("button", name=re.compile("^Write the note")).click()
    expect(page.get_by_role("heading", name="Session note · Rachel Kemp")).to_be_visible()
    if earlier:
        expect(page.locator("#earlier-worksheets")).to_contain_text(earlier)
    dispute = page.get_by_role("group", name="Role dispute: its stage at this session")
    dispute.get_by_label(stage, exact=True).check()
    dispute.get_by_label("What showed it").fill(showed)
    page.get_by_label("Risk check").select_option(label="No current risk identified")
    checked(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Note saved \(version"))).to_be_visible()
    expect(page.get_by_text(f"{stage} at this session: {showed}")).to_be_visible()
    checked(page)


def test_a_role_dispute_course_from_its_middle_to_maintenance(page: Page):
    page.set_viewport_size({"width": 1366, "height": 900})
    clinic = ClinicFactory(name="Northgate", slug="northgate")
    therapist, device = staff_with_authenticator(
        username="anna",
        first_name="Anna",
        last_name="Whitfield",
        clinic=clinic,
        role=Role.THERAPIST,
    )
    course = _rachel(therapist)
    last_week, today = (
        SessionFactory(
            course=course,
            scheduled_start=timezone.now() - ago,
            status="attended",
            phase=Phase.PROBLEM_SOLVING,
        )
        for ago in (timedelta(days=7), timedelta(hours=1))
    )
    log_in(page, "anna", device)

    # Last week: a communication analysis of a row, and a role play that sets homework.
    page.goto(f"/sessions/{last_week.pk}/")
    checked(page)
    page.get_by_role("link", name="Communication analysis").click()
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
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Communication analysis saved.")).to_be_visible()
    page.get_by_role("link", name="Role play").click()
    page.get_by_label("Problem area").select_option(label="Role dispute")
    page.get_by_label("The person the scene is with").select_option(
        label="Marcus (Partner / spouse)"
    )
    page.get_by_role("textbox", name="The scene").fill("Asking Marcus to text when he will be late")
    page.get_by_label("Who played whom").fill("Rachel as herself, Anna as Marcus; then swapped")
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
    checked(page)
    assert Assignment.objects.get(course=course).kind == "role_play"

    # The stage, recorded in each session's note: still an impasse last week, then today the
    # first talk in months; today's note shows last week's worksheets.
    _write_the_note(page, last_week.pk, stage="Impasse", showed="Too tired to talk, he said.")
    _write_the_note(
        page,
        today.pk,
        stage="Renegotiation",
        showed="The first Sunday talk in months.",
        earlier="She heard contempt; he heard an attack.",
    )
    assert list(
        DisputeStageEntry.objects.filter(course=course)
        .order_by("recorded_on", "at")
        .values_list("stage", "session_id")
    )[1:] == [("impasse", last_week.pk), ("renegotiation", today.pk)]

    # The course page draws the history and lists the worksheets; the review is due.
    page.goto(f"/courses/{course.pk}/")
    checked(page)
    expect(
        page.get_by_role("img", name=re.compile("The dispute with Marcus, stage by session"))
    ).to_be_visible()
    expect(page.locator("g.stage-point")).to_have_count(3)
    expect(page.get_by_text("stage now: Renegotiation")).to_be_visible()
    expect(page.locator("#course-worksheets")).to_contain_text(
        "Homework: Role-play practice: Asking Marcus"
    )
    review = _section(page, "Mid-course review")
    review.get_by_role("link", name="Hold the review").click()
    checked(page)
    page.get_by_label("The goals' progress").fill("Asks Marcus for what she needs most weeks.")
    page.get_by_label("Focus kept").check()
    page.get_by_label("Why the focus is kept or changed").fill("The dispute is moving.")
    page.get_by_label("Plan for the remaining sessions").fill(
        "Role-play the Sunday talk; termination from session 14."
    )
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Mid-course review recorded.")).to_be_visible()
    checked(page)

    # Termination, and an ending refused while the last PHQ-9 is three weeks old.
    page.get_by_role("button", name="Move to the next phase").click()
    expect(page.get_by_role("heading", name="Termination / relapse prevention")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="Complete the course…").click()
    checked(page)
    expect(page.get_by_text("✗ Not met: A PHQ-9 from the last 14 days")).to_be_visible()
    page.get_by_label("Tell Marcus one thing I need each week").select_option(
        label="Partly achieved"
    )
    page.get_by_label("Maintenance IPT").check()
    page.get_by_label("Reason and details").fill(
        "Monthly sessions for a year: two relapses before."
    )
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The course cannot be completed yet: A PHQ-9")).to_be_visible()
    checked(page)
    course.refresh_from_db()
    assert (course.status, course.ending_decision) == (CourseStatus.ACTIVE, "maintenance_ipt")

    # Today's PHQ-9, 12: no response (down 29 %), so the decision stands; the course ends.
    measure_record(course=course, instrument="phq9", answers=PHQ9_12, entered_by=therapist)
    page.reload()
    checked(page)
    expect(page.get_by_text("✓ Met: A PHQ-9 from the last 14 days")).to_be_visible()
    expect(page.get_by_text("No: fell 29%")).to_be_visible()
    page.get_by_role("button", name="Save and continue").click()
    checked(page)
    page.get_by_role("button", name="Complete the course").click()
    page.wait_for_load_state()
    checked(page)
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED
    expect(_section(page, "The ending").get_by_text("Maintenance IPT")).to_be_visible()

    # Maintenance IPT: 12 monthly sessions from the last one, booked as a series.
    page.get_by_role("link", name="Start maintenance IPT…").click()
    checked(page)
    expect(page.get_by_role("spinbutton", name=re.compile("Sessions contracted"))).to_have_value(
        "12"
    )
    page.get_by_role("button", name="Start maintenance and book its sessions").click()
    expect(page.get_by_text("Maintenance IPT started: 12 sessions, monthly.")).to_be_visible()
    expect(page.locator('[id^="series-row-"]')).to_have_count(12)
    checked(page)
    page.get_by_role("button", name="Book these sessions").click()
    expect(page.get_by_text("12 sessions booked")).to_be_visible()
    checked(page)
    maintenance = TreatmentCourse.objects.get(course_type="maintenance", maintenance_of=course)
    tz = clinic.tz
    days = [
        timezone.localdate(s.scheduled_start, tz)
        for s in TherapySession.objects.filter(course=maintenance).order_by("scheduled_start")
    ]
    first = timezone.localdate(today.scheduled_start, tz)
    assert days == [first + timedelta(weeks=4 * n) for n in range(1, 13)]
