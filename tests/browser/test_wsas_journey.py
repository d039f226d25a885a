"""The WSAS end to end in a browser: a retired patient fills it in on a 390-px phone, answering
"does not apply" to the work question, and sees it on "My progress" in a chart of its own; her
therapist enters one in a session at 1366 px and reads both on the course page, in a panel of
their own under the PHQ-9 and GAD-7 chart. Each page passes axe; screenshots are kept."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from sessions.measures import measure_record
from sessions.models import EnteredBy, Measure
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, SessionFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _course():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist, device = staff_with_authenticator(
        username="alice", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=therapist, first_name="Maeve", last_name="Byrne")
    course = CourseFactory(patient=patient, start_date=timezone.localdate() - timedelta(days=30))
    measure_record(
        course=course,
        instrument="phq9",
        answers=[2] * 8 + [0],
        entered_by_kind=EnteredBy.PATIENT,
        taken_at=timezone.now() - timedelta(days=21),
    )
    measure_record(
        course=course,
        instrument="wsas",
        answers=[None, 7, 6, 5, 6],
        entered_by_kind=EnteredBy.PATIENT,
        taken_at=timezone.now() - timedelta(days=21),
    )
    return course, therapist, device


def test_a_retired_patient_fills_in_the_wsas_on_a_phone(browser, live_server, page: Page):
    course, therapist, _device = _course()
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(urlsplit(url).path)
    page.get_by_role("button", name="Open my page").click()
    page.wait_for_url("**/p/")

    page.get_by_role("link", name="Work and daily life questionnaire (WSAS)").click()
    expect(page.get_by_role("heading", name="Work and daily life questionnaire (WSAS)")).to_be_visible()  # fmt: skip
    questions = page.locator("form fieldset")
    expect(questions).to_have_count(5)
    expect(questions.nth(0).locator(".answer-row")).to_have_count(10)
    heights = page.locator(".answer-row").evaluate_all(
        "rows => rows.map(row => row.getBoundingClientRect().height)"
    )
    assert len(heights) == 5 * 9 + 1 and min(heights) >= 44
    checked(page)

    questions.nth(0).get_by_text("Does not apply").click()
    for number, answer in ((1, "3"), (2, "2 Slightly"), (3, "2 Slightly"), (4, "1")):
        questions.nth(number).get_by_text(answer, exact=True).click()
    _shot(page, "portal-wsas-390.png")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    latest = Measure.objects.filter(course=course, instrument="wsas").latest("taken_at")
    assert (latest.answers, latest.total, latest.severity) == ([None, 3, 2, 2, 1], 8, "subclinical")

    page.get_by_role("link", name="Back to the start").click()
    page.get_by_role("link", name="My progress").click()
    chart = page.locator("#progress-wsas-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("title").first).to_contain_text("from 0 to 40")
    expect(page.locator("#progress-wsas tbody tr")).to_have_count(2)
    checked(page)
    _shot(page, "portal-progress-wsas-390.png")


def test_a_therapist_enters_a_wsas_and_reads_it_in_its_own_panel(browser, live_server, page: Page):
    course, therapist, device = _course()
    session = SessionFactory(
        course=course, therapist=therapist, scheduled_start=timezone.now() - timedelta(minutes=10)
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "alice", device)

    page.goto(reverse("therapy:session", args=[session.pk]))
    page.get_by_role("link", name="Enter WSAS").click()
    expect(page.locator("#wsas-work-note")).to_contain_text("out of 32")
    checked(page)
    groups = page.locator("form fieldset")
    for number, answer in enumerate(("4 Definitely", "5", "6 Markedly", "3", "4 Definitely")):
        groups.nth(number).get_by_text(answer, exact=True).click()
    _shot(page, "staff-wsas-form-1366.png")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("WSAS recorded: 22 (severe impairment).")).to_be_visible()
    checked(page)

    page.goto(reverse("therapy:course_sessions", args=[course.pk]))
    expect(page.locator("#wsas-chart svg")).to_be_visible()
    expect(page.locator("#outcome-wsas")).to_contain_text(
        "baseline 24 (severe impairment), latest 22 (severe impairment)"
    )
    checked(page)
    page.locator("#wsas-chart").screenshot(path=str(ARTIFACTS / "staff-wsas-panel-1366.png"))
    _shot(page, "staff-course-scores-1366.png")
