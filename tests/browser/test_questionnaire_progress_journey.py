"""A patient on a 390-px phone: the home page says the PHQ-9 is due before the next session;
the questionnaire's answer rows are at least 44 px high, their borders and focus ring reach
3:1 against the white they sit on (WCAG 1.4.11, worked out from the browser's computed
colours), each legend stays inside its box and says "Question 3 of 9"; answers ticked survive
a reload; sent, the badge goes and "My progress" shows the new score in its chart and table.
Without JavaScript the form still sends."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.portal_links import portal_link_create
from phases.models import TreatmentCourse
from sessions.measures import measure_record
from sessions.models import EnteredBy, Measure
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    SessionFactory,
    UserFactory,
)

from .conftest import ARTIFACTS, checked

pytestmark = pytest.mark.django_db(transaction=True)

BADGE = "Due before your next session"

# WCAG's contrast ratio of two computed CSS colours (rgb()/rgba() over white).
CONTRAST_JS = """
(([first, second]) => {
  const rgb = (text) => {
    const [r, g, b, a = 1] = text.match(/[\\d.]+/g).map(Number);
    return [r, g, b].map((c) => c * a + 255 * (1 - a));
  };
  const luminance = (text) => {
    const [r, g, b] = rgb(text).map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(first), luminance(second)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
})
"""


def _contrast(page: Page, first: str, second: str) -> float:
    return page.evaluate(CONTRAST_JS, [first, second])


def _patient_with_a_phq9_due():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist = UserFactory(username="alice", clinic=clinic, role=Role.THERAPIST)
    patient = PatientFactory(primary_therapist=therapist, first_name="Jamie", last_name="Rivers")
    course = CourseFactory(patient=patient, start_date=timezone.localdate() - timedelta(days=40))
    now = timezone.now()
    for days_ago, answers in ((35, [2] * 9), (21, [2, 2, 1, 1, 1, 1, 1, 1, 0])):
        measure_record(
            course=course,
            instrument="phq9",
            answers=answers,
            entered_by_kind=EnteredBy.PATIENT,
            taken_at=now - timedelta(days=days_ago),
        )
    TreatmentCourse.objects.filter(pk=course.pk).update(latest_phq9_at=now - timedelta(days=21))
    SessionFactory(course=course, scheduled_start=now + timedelta(days=2))
    _link, url = portal_link_create(patient=patient, by=therapist)
    return course, urlsplit(url).path


def _open(page: Page, path: str) -> None:
    page.goto(path)
    page.get_by_role("button", name="Open my page").click()
    page.wait_for_url("**/p/")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_patient_fills_in_a_due_phq9_on_a_phone_and_sees_their_progress(
    browser, live_server, page: Page
):
    course, path = _patient_with_a_phq9_due()
    page.set_viewport_size({"width": 390, "height": 844})
    _open(page, path)
    expect(page.get_by_text(BADGE)).to_be_visible()
    checked(page)

    page.get_by_role("link", name="Mood questionnaire (PHQ-9)").click()
    expect(page.get_by_role("heading", name="Mood questionnaire (PHQ-9)")).to_be_visible()
    expect(page.get_by_text(BADGE)).to_be_visible()
    questions = page.locator("form fieldset")
    expect(questions).to_have_count(9)
    expect(questions.nth(2).locator("legend")).to_contain_text("Question 3 of 9")
    expect(page.get_by_role("group", name="Question 3 of 9 Trouble falling")).to_be_visible()
    checked(page)
    _shot(page, "portal-phq9-390.png")

    # Answer rows: full width, at least 44 px high, bordered at 3:1 against white.
    sizes = page.locator(".answer-row").evaluate_all(
        """rows => rows.map(row => {
            const box = row.getBoundingClientRect();
            const holder = row.closest('fieldset').getBoundingClientRect();
            const style = getComputedStyle(row);
            return {height: box.height, width: box.width, holder: holder.width,
                    border: style.borderTopColor, borderWidth: parseFloat(style.borderTopWidth),
                    background: style.backgroundColor,
                    behind: getComputedStyle(row.closest('fieldset')).backgroundColor};
        })"""
    )
    assert len(sizes) == 36
    for row in sizes:
        assert row["height"] >= 44, row
        assert row["width"] >= row["holder"] - 40, row  # the box's width, less its padding
        assert row["borderWidth"] >= 1
        assert _contrast(page, row["border"], row["background"]) >= 3, row
        assert _contrast(page, row["border"], row["behind"]) >= 3, row

    # Each legend inside its fieldset's border, its text wrapped within it.
    for fieldset in questions.all():
        inside = fieldset.evaluate(
            """fieldset => {
                const legend = fieldset.querySelector('legend');
                const box = fieldset.getBoundingClientRect();
                const text = legend.getBoundingClientRect();
                const style = getComputedStyle(fieldset);
                return text.top >= box.top + parseFloat(style.borderTopWidth)
                    && text.left >= box.left + parseFloat(style.borderLeftWidth)
                    && text.right <= box.right - parseFloat(style.borderRightWidth)
                    && text.bottom <= box.bottom
                    && legend.scrollWidth <= legend.clientWidth + 1;
            }"""
        )
        assert inside, fieldset.locator("legend").inner_text()

    # The focus ring, reached with the keyboard: at least 2 px, 3:1 against what is around it.
    first = questions.nth(0).get_by_role("radio").nth(0)
    first.focus()
    page.keyboard.press("ArrowDown")  # moves to and ticks "Several days"
    ring = page.evaluate(
        """() => {
            const row = document.activeElement.closest('.answer-row');
            const style = getComputedStyle(row);
            return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                    colour: style.outlineColor,
                    inside: getComputedStyle(row.closest('fieldset')).backgroundColor,
                    page: getComputedStyle(document.body).backgroundColor};
        }"""
    )
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    assert _contrast(page, ring["colour"], ring["inside"]) >= 3, ring
    assert _contrast(page, ring["colour"], ring["page"]) >= 3, ring
    expect(first).not_to_be_checked()
    expect(questions.nth(0).get_by_role("radio").nth(1)).to_be_checked()

    # Half-way, the page is reloaded: the answers are still ticked.
    answers = [1, 2, 1, 0, 1, 1, 0, 0, 0]
    for index in range(1, 4):
        questions.nth(index).locator(".answer-row").nth(answers[index]).click()
    page.reload()
    for index in range(4):
        expect(questions.nth(index).get_by_role("radio").nth(answers[index])).to_be_checked()
    expect(questions.nth(4).get_by_role("radio").nth(0)).not_to_be_checked()
    for index in range(4, 9):
        questions.nth(index).get_by_role("radio").nth(answers[index]).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    checked(page)
    kept = page.evaluate(
        "() => Object.keys(sessionStorage).filter(k => k.startsWith('questionnaire answers '))"
    )
    assert kept == []
    [sent] = Measure.objects.filter(
        course=course, taken_at__gte=timezone.now() - timedelta(hours=1)
    )
    assert (sent.answers, sent.total) == (answers, 6)

    page.get_by_role("link", name="Back to the start").click()
    expect(page.get_by_text(BADGE)).to_have_count(0)
    page.get_by_role("link", name="My progress").click()
    expect(page.get_by_role("heading", name="My progress")).to_be_visible()
    expect(page.get_by_role("img", name="Your scores over time")).to_be_visible()
    rows = page.locator("#progress-phq9 tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("6")
    expect(rows.nth(2)).to_contain_text("Some symptoms")
    checked(page)
    _shot(page, "portal-progress-390.png")
    # The chart fits the phone's width.
    width = page.locator("svg.progress-chart").evaluate("svg => svg.getBoundingClientRect().width")
    assert 300 <= width <= 390


def test_the_questionnaire_sends_without_javascript(browser, live_server):
    course, path = _patient_with_a_phq9_due()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        _open(page, path)
        page.goto("/p/questionnaires/phq9/")
        for question in page.locator("form fieldset").all():
            question.locator(".answer-row").nth(0).click()
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    assert Measure.objects.filter(course=course, total=0).count() == 1
