"""The browser's Back button after a form was sent, in Chromium: the page comes back from the
server with the answers still ticked, and it sends the key it was first sent with
(static/js/form_key.js). A questionnaire changed there is a correction; a life event changed
there is refused with the text kept, not added a second time."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import LifeEvent
from patients.portal_links import portal_link_create
from sessions.models import Measure
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, SessionFactory

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)

CRISIS = "If you are thinking about hurting yourself"


def _course():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside", phone="020 7946 0000")
    therapist, device = staff_with_authenticator(
        username="alice", first_name="Alice", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=therapist, first_name="Jamie", last_name="Rivers")
    return CourseFactory(patient=patient), therapist, device


def _answer(page: Page, answers: list[int]) -> None:
    questions = page.locator("form fieldset")
    expect(questions).to_have_count(len(answers))
    for index, answer in enumerate(answers):
        questions.nth(index).get_by_role("radio").nth(answer).check()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_it_takes_a_portal_phq9_changed_after_going_back_as_a_correction(
    browser, live_server, page: Page
):
    course, therapist, _device = _course()
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(urlsplit(url).path)
    page.get_by_role("button", name="Open my page").click()
    page.wait_for_url("**/p/")
    page.goto("/p/questionnaires/phq9/")
    _answer(page, [1] * 8 + [0])
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text(CRISIS)).to_have_count(0)

    page.go_back()
    questions = page.locator("form fieldset")
    expect(questions.nth(0).get_by_role("radio").nth(1)).to_be_checked()  # answers kept
    questions.nth(8).get_by_role("radio").nth(3).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name=CRISIS)).to_be_visible()
    checked(page)
    _shot(page, "portal-phq9-corrected-thanks.png")

    first, correction = Measure.objects.filter(course=course).order_by("pk")
    assert first.superseded_at is not None
    assert (correction.corrects_id, correction.total, correction.risk_flag) == (first.pk, 11, True)


def test_it_takes_a_staff_phq9_changed_after_going_back_as_a_correction(
    browser, live_server, page: Page
):
    course, _therapist, device = _course()
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "alice", device)
    page.goto(f"/sessions/{session.pk}/measures/phq9/")
    _answer(page, [1] * 8 + [0])
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("PHQ-9 recorded: 8 (mild).")).to_be_visible()

    page.go_back()
    page.locator("form fieldset").nth(8).get_by_role("radio").nth(3).check()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("PHQ-9 corrected: now 11 (moderate).")).to_be_visible()
    expect(page.get_by_text("Open risk flag")).to_be_visible()
    checked(page)
    _shot(page, "staff-phq9-corrected-session.png")
    assert Measure.objects.filter(course=course, superseded_at__isnull=True).count() == 1


def test_it_refuses_a_life_event_changed_after_going_back_and_keeps_the_text(
    browser, live_server, page: Page
):
    course, _therapist, device = _course()
    patient = course.patient
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "alice", device)
    page.goto(f"/patients/{patient.pk}/events/new/")
    page.get_by_label("Occurred on").fill("2025-09-14")
    page.get_by_label("Description").fill("Mum moved into a care home")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Life event added to the timeline.")).to_be_visible()

    page.go_back()
    page.get_by_label("Description").fill("Mum moved into a care home in Leeds")
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text("This form was already sent and saved as the life event")
    ).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("Mum moved into a care home in Leeds")
    checked(page)
    _shot(page, "staff-life-event-sent-again.png")
    assert list(
        LifeEvent.objects.filter(patient=patient).values_list("description", flat=True)
    ) == ["Mum moved into a care home"]

    page.get_by_role("button", name="Save").click()  # the fresh form: a second event, on purpose
    expect(page.get_by_text("Life event added to the timeline.")).to_be_visible()
    assert LifeEvent.objects.filter(patient=patient).count() == 2
