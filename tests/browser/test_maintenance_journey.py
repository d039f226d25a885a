"""Maintenance IPT through the browser (issue 22, point 5): from a completed course, an IPT-M
course of 12 monthly sessions booked as a series, a booster booked when a warning sign comes
back, and, a month on, the patient's portal showing the monthly questionnaire as due."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from phases.maintenance import maintenance_course_start
from phases.models import MaintenanceBooster, TreatmentCourse
from sessions.models import TherapySession
from tests.factories import ClinicFactory, SessionFactory
from tests.phases.maintenance_cast import completed_course

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = ARTIFACTS / "maintenance"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _alice():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    return staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )


def test_it_books_twelve_monthly_maintenance_sessions_from_a_completed_course(page: Page):
    alice, device = _alice()
    acute = completed_course(alice, ending_decision="maintenance_ipt")
    tz = alice.clinic.tz
    # The completed course's last session, on a Tuesday at 16:00 four days ago.
    last_day = timezone.localdate(timezone=tz) - timedelta(days=4)
    SessionFactory(
        course=acute,
        scheduled_start=datetime.combine(last_day, time(16), tzinfo=tz),
        status="attended",
    )
    log_in(page, "alice", device)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto(f"/patients/{acute.patient_id}/")
    page.get_by_role("link", name=re.compile(r"^Course from")).click()
    expect(page.get_by_role("heading", name="Maintenance IPT", exact=True)).to_be_visible()
    checked(page)
    _shot(page, "completed_course_1366")
    page.get_by_role("link", name="Start maintenance IPT…").click()
    expect(page.get_by_role("heading", name=re.compile("^Start maintenance IPT"))).to_be_visible()
    checked(page)
    expect(page.get_by_role("checkbox", name=re.compile("Share the chores"))).to_be_checked()
    expect(
        page.get_by_role("checkbox", name=re.compile("Talk about the move weekly"))
    ).not_to_be_checked()
    expect(page.get_by_role("spinbutton", name=re.compile("Sessions contracted"))).to_have_value(
        "12"
    )
    _shot(page, "start_form_1366")
    page.get_by_role("button", name="Start maintenance and book its sessions").click()

    expect(page.get_by_text("Maintenance IPT started: 12 sessions, monthly.")).to_be_visible()
    checked(page)
    expect(page.locator("#id_interval")).to_have_value("monthly")
    expect(page.locator('[id^="series-row-"]')).to_have_count(12)
    _shot(page, "series_preview_1366")
    page.get_by_role("button", name="Book these sessions").click()
    expect(page.get_by_text("12 sessions booked")).to_be_visible()
    checked(page)

    maintenance = TreatmentCourse.objects.get(course_type="maintenance")
    booked = [
        timezone.localtime(s.scheduled_start, tz)
        for s in TherapySession.objects.filter(course=maintenance).order_by("scheduled_start")
    ]
    assert [d.date() for d in booked] == [last_day + timedelta(weeks=4 * n) for n in range(1, 13)]
    assert {d.time() for d in booked} == {time(16)}
    expect(page.get_by_role("heading", name=re.compile("^Maintenance IPT — Jamie"))).to_be_visible()
    _shot(page, "maintenance_course_1366")

    # A warning sign of the plan comes back: a booster, a week from now.
    page.get_by_role("link", name="Book a booster session…").click()
    checked(page)
    page.get_by_label("Cancelling plans with friends").check()
    page.get_by_label("What the patient noticed").fill("Stayed in two weekends running.")
    page.get_by_label("Date").fill(
        (timezone.localdate(timezone=tz) + timedelta(days=7)).isoformat()
    )
    page.get_by_label("Time").fill("09:30")
    _shot(page, "booster_form_1366")
    page.get_by_role("button", name="Book the booster").click()
    expect(page.get_by_text("Booster session booked for")).to_be_visible()
    expect(page.locator("#boosters")).to_contain_text(
        "Cancelling plans with friends — Stayed in two weekends running."
    )
    checked(page)
    _shot(page, "maintenance_course_with_booster_1366")
    assert MaintenanceBooster.objects.get(course=maintenance).warning_sign == (
        "Cancelling plans with friends"
    )


def test_a_patient_sees_the_monthly_questionnaire_as_due_in_the_portal(page: Page):
    alice, _device = _alice()
    acute = completed_course(alice)
    today = timezone.localdate(timezone=alice.clinic.tz)
    TreatmentCourse.objects.filter(pk=acute.pk).update(ended_at=timezone.now() - timedelta(days=40))
    acute.refresh_from_db()
    # Started five weeks ago: this month's check-in was asked for a few days ago.
    maintenance_course_start(
        course=acute, by=alice, start_date=today - timedelta(days=35), planned_sessions=12
    )
    _link, url = portal_link_create(patient=acute.patient, by=alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(urlsplit(url).path)
    page.get_by_role("button", name="Open my page").click()
    expect(page.get_by_role("heading", name="Hello Jamie")).to_be_visible()
    expect(page.locator("#checkin-due")).to_have_text("Due this month")
    checked(page)
    _shot(page, "portal_home_checkin_due_390")
    page.get_by_role("link", name=re.compile("Mood questionnaire")).click()
    questions = page.locator("form fieldset")
    for index in range(9):
        questions.nth(index).get_by_role("radio").nth(1 if index < 3 else 0).check()
    page.get_by_role("button", name=re.compile("Send my answers")).click()
    page.wait_for_load_state()
    checked(page)
    page.goto("/p/")
    expect(page.get_by_role("heading", name="Hello Jamie")).to_be_visible()
    expect(page.locator("#checkin-due")).to_have_count(0)
