"""The middle and the end of a role-dispute course, through the browser (issue 22): the stage
moving from impasse to renegotiation across sessions and drawn on the course page, the
mid-course review at the halfway session, then completion refused without a recent PHQ-9 and
accepted once there is one, with the decision a patient without a response needs.

Screenshots of each new page at 1366 px go to /tmp/shots/iptphases/ (looked at by hand)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from phases.models import (
    CourseStatus,
    DisputeStageEntry,
    MidCourseReview,
    Phase,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from phases.services import problem_area_create
from sessions.measures import measure_record
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    GoalFactory,
    PatientFactory,
    RelationshipFactory,
)

from .conftest import checked
from .helpers import in_days, log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots/iptphases")
PHQ9_12 = [2, 2, 1, 1, 2, 1, 2, 1, 0]


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _section(page: Page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def _rachel(therapist) -> TreatmentCourse:
    """Rachel's course at its halfway session: 8 of 16 held, a dispute with Marcus at an
    impasse since the formulation, her last PHQ-9 three weeks old."""
    patient = PatientFactory(primary_therapist=therapist, first_name="Rachel", last_name="Kemp")
    marcus = RelationshipFactory(patient=patient, name="Marcus", kind="partner")
    course = CourseFactory(
        patient=patient,
        phase=Phase.PROBLEM_SOLVING,
        start_date=timezone.localdate() - timedelta(days=60),
        planned_sessions=16,
        sessions_attended=8,
        contract_agreed_on=timezone.localdate() - timedelta(days=50),
        formulation="A role dispute with Marcus about the home since she went back full time.",
        medication_considered=True,
        referral_considered=True,
    )
    for answers, days_ago in [([3, 2, 2, 2, 2, 2, 2, 2, 0], 56), ([2, 2, 2, 2, 2, 2, 2, 1, 0], 21)]:
        measure_record(
            course=course,
            instrument="phq9",
            answers=answers,
            entered_by=therapist,
            taken_at=timezone.now() - timedelta(days=days_ago),
        )
    with_past = timezone.now() - timedelta(days=35)
    dispute = problem_area_create(
        course=course,
        by=therapist,
        kind="role_dispute",
        other_party=marcus,
        dispute_stage="impasse",
    )
    DisputeStageEntry.objects.filter(problem_area=dispute).update(
        recorded_on=timezone.localdate(with_past), at=with_past
    )
    GoalFactory(
        problem_area=dispute,
        text="Tell Marcus one thing I need each week",
        progress=4,
        last_reviewed_at=timezone.now() - timedelta(days=7),
    )
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Rows that end in silence.",
        coping_strategies="The Sunday talk.",
        if_symptoms_return="Book a review session.",
    )
    return course


def test_a_role_dispute_from_its_middle_to_a_decided_ending(page: Page):
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
    log_in(page, "anna", device)
    page.goto(f"/courses/{course.pk}/")
    checked(page)

    # The halfway session: the course page prompts the review.
    review = _section(page, "Mid-course review")
    expect(review.get_by_text("due now")).to_be_visible()
    review.get_by_role("link", name="Hold the review").click()
    checked(page)
    expect(
        page.get_by_text("Due at the contract's halfway point, the 8th of 16 sessions")
    ).to_be_visible()
    _shot(page, "mid-course-review-form")
    page.get_by_label("The goals' progress").fill("Asks Marcus for what she needs most weeks.")
    page.get_by_label("Focus kept").check()
    page.get_by_label("Why the focus is kept or changed").fill("Still stuck at an impasse.")
    page.get_by_label("Plan for the remaining sessions").fill(
        "Role-play the Sunday talk; termination from session 14."
    )
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Mid-course review recorded.")).to_be_visible()
    checked(page)
    expect(
        _section(page, "Mid-course review").get_by_text("Held after 8 of 16 sessions")
    ).to_be_visible()
    assert MidCourseReview.objects.get(course=course).baseline_phq9 == 17

    # The stage at two sessions: still an impasse a week ago, renegotiation today.
    for days_ago, stage, note in [
        (7, "Impasse", "Asked for a talk; he was too tired."),
        (0, "Renegotiation", "The first Sunday talk in months."),
    ]:
        page.get_by_role("link", name=re.compile("^Record the stage at a session")).click()
        checked(page)
        page.get_by_label("Session date").fill(in_days(-days_ago))
        page.get_by_label(stage, exact=True).check()
        page.get_by_label("What showed the stage").fill(note)
        if days_ago == 0:
            _shot(page, "dispute-stage-form")
        page.get_by_role("button", name="Record the stage").click()
        expect(page.get_by_text(f"Stage recorded: {stage}.")).to_be_visible()
        checked(page)
    history = page.get_by_role("img", name=re.compile("The dispute with Marcus, stage by session"))
    expect(history).to_be_visible()
    expect(page.locator("g.stage-point")).to_have_count(3)
    expect(page.get_by_text("stage now: Renegotiation")).to_be_visible()
    expect(page.get_by_role("cell", name="The first Sunday talk in months.")).to_be_visible()
    page.locator(".stage-history").first.scroll_into_view_if_needed()
    _shot(page, "course-page-stage-history")

    # On to termination, then the ending: refused while the last PHQ-9 is three weeks old.
    page.get_by_role("button", name="Move to the next phase").click()
    expect(page.get_by_role("heading", name="Termination / relapse prevention")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="Complete the course…").click()
    checked(page)
    expect(page.get_by_text("✗ Not met: A PHQ-9 from the last 14 days")).to_be_visible()
    expect(page.get_by_text("No: fell 12%")).to_be_visible()
    page.get_by_label("Tell Marcus one thing I need each week").select_option(
        label="Partly achieved"
    )
    page.get_by_label("Referral elsewhere").check()
    page.get_by_label("Reason and details").fill("Couples counselling: Relate, both willing now.")
    _shot(page, "ending-refused")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The course cannot be completed yet: A PHQ-9")).to_be_visible()
    checked(page)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    assert course.ending_decision == "referral"

    # Today's PHQ-9 (12: down 29%, no response) arrives; the ending goes through.
    measure_record(course=course, instrument="phq9", answers=PHQ9_12, entered_by=therapist)
    page.reload()
    checked(page)
    expect(page.get_by_text("✓ Met: A PHQ-9 from the last 14 days")).to_be_visible()
    expect(page.get_by_text("No: fell 29%")).to_be_visible()
    expect(page.get_by_label("Referral elsewhere")).to_be_checked()
    _shot(page, "ending-ready")
    page.get_by_role("button", name="Save and continue").click()
    checked(page)
    page.get_by_role("button", name="Complete the course").click()
    page.wait_for_load_state()
    checked(page)
    course.refresh_from_db()
    assert (course.status, course.phase) == (CourseStatus.COMPLETED, Phase.COMPLETED)
    ending = _section(page, "The ending")
    expect(ending.get_by_text("Referral elsewhere")).to_be_visible()
    expect(ending.get_by_text("No: fell 29%")).to_be_visible()
    _shot(page, "course-completed")
