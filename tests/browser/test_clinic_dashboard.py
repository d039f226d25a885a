"""The clinic dashboard on a 1366-px laptop screen: the three figures that matter most (open
risk flags with the oldest one's age, unsigned notes over 48 hours, PHQ-9 overdue) are in view
without scrolling, the therapist table fits the screen's width, and on a narrower window the
table scrolls sideways with the therapist column kept in view. The 1366-px screenshot is kept
under test-artifacts/browser/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from sessions.models import Measure, SessionNote, SessionStatus
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    SessionFactory,
    UserFactory,
)

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


def _busy_clinic():
    """A clinic of 30 therapists (more than a page of the table), with long names, one open
    risk flag raised six hours ago, one unsigned note three days old and courses overdue a
    PHQ-9."""
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    _admin, device = staff_with_authenticator(
        username="carol",
        first_name="Carol",
        last_name="Admin",
        clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )
    now = timezone.now()
    therapists = [
        UserFactory(
            username=f"t{n:02d}",
            first_name=f"Alexandra-{n:02d}",
            last_name="Montgomery-Fairweather",
            clinic=clinic,
            role=Role.THERAPIST,
        )
        for n in range(30)
    ]
    for n, therapist in enumerate(therapists):
        course = CourseFactory(
            patient=PatientFactory(primary_therapist=therapist),
            start_date=timezone.localdate() - timedelta(days=40),
            latest_phq9_at=now - timedelta(days=20) if n % 3 == 0 else now,
        )
        SessionFactory(course=course, scheduled_start=now - timedelta(days=8 + n % 5))
        SessionFactory(
            course=course,
            scheduled_start=now - timedelta(days=8 + n % 7),
            status=SessionStatus.NO_SHOW,
        )
        if n == 0:
            flag = Measure.objects.create(
                clinic=clinic,
                course=course,
                instrument="phq9",
                answers=[2, 2, 2, 2, 1, 1, 1, 1, 1],
                total=13,
                severity="moderate",
                risk_flag=True,
                taken_at=now - timedelta(hours=6),
            )
            Measure.objects.filter(pk=flag.pk).update(created_at=now - timedelta(hours=6))
            session = SessionFactory(
                course=course,
                scheduled_start=now - timedelta(days=3),
                status=SessionStatus.ATTENDED,
            )
            SessionNote.objects.create(clinic=clinic, session=session, phase=course.phase)
    return device


def test_it_shows_the_lead_figures_without_scrolling_at_1366_px(page: Page):
    device = _busy_clinic()
    page.set_viewport_size(LAPTOP)
    log_in(page, "carol", device)
    expect(page.get_by_role("heading", name="Riverside Clinic: caseload review")).to_be_visible()
    checked(page)

    for label, count in (
        ("Open risk flags", "1"),
        ("Unsigned notes > 48 h", "1"),
        ("PHQ-9 overdue", "10"),
    ):
        figure = page.locator(".lead-figure").filter(has_text=label)
        expect(figure.locator(".lead-figure-count")).to_have_text(count)
        box = figure.bounding_box()
        assert box is not None, label
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], (label, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], (label, box)
    risk = page.locator(".lead-figure").filter(has_text="Open risk flags")
    expect(risk).to_contain_text("Oldest raised 6 h")
    expect(risk).to_contain_text("past the escalation window (4 hours)")
    assert page.evaluate("window.scrollY") == 0

    # The whole table fits the screen's width: nothing to scroll sideways.
    widths = page.evaluate(
        "(() => { const t = document.querySelector('.caseload-dashboard');"
        " return [t.scrollWidth, t.parentElement.clientWidth,"
        " document.documentElement.scrollWidth]; })()"
    )
    assert widths[0] <= widths[1] and widths[2] <= LAPTOP["width"], widths
    expect(page.locator(".caseload-dashboard tbody tr")).to_have_count(25)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clinic-dashboard-1366.png"))

    # The next page keeps the order; the risk figure leads to the flag, with its age.
    page.locator(".caseload-dashboard thead").get_by_role("link", name="Open risk").click()
    checked(page)  # sorted most first
    page.get_by_role("link", name="Next").click()
    checked(page)
    expect(page.locator(".caseload-dashboard tbody tr")).to_have_count(5)
    assert "sort=risk_open" in page.url and "dir=desc" in page.url and "page=2" in page.url
    risk = page.locator(".lead-figure").filter(has_text="Open risk flags")
    risk.click()
    checked(page)
    expect(page.locator(".risk-flag-list tbody tr")).to_have_count(1)
    expect(page.locator(".risk-flag-overdue")).to_contain_text("6 h")
    page.get_by_role("link", name="← Back to the dashboard").click()
    assert "sort=risk_open" in page.url and "page=2" in page.url


def test_it_keeps_the_therapist_column_in_view_when_the_table_scrolls(page: Page):
    device = _busy_clinic()
    page.set_viewport_size({"width": 900, "height": 768})
    log_in(page, "carol", device)
    checked(page)
    scroller = page.locator(".caseload-dashboard-scroll")
    name = page.locator(".caseload-dashboard tbody tr").first.locator("th")
    before = name.bounding_box()
    scroller.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    assert scroller.evaluate("element => element.scrollLeft") > 100  # it did scroll
    after = name.bounding_box()
    assert after is not None and before is not None
    assert abs(after["x"] - before["x"]) < 1, (before, after)
    expect(name).to_contain_text("Alexandra-00")
