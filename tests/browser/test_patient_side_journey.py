"""The patient's side of IPT on a 390 x 844 phone, in one visit (issue 23's journey): the
formulation their therapist shared, agreed; their progress as a chart with its table; a
communication-practice entry on their homework; a PHQ-9 with its "question 3 of 9" counter
and answer rows measured at 3:1 or more; then, their link lost, a new one from "Lost your
link?". axe runs on every page (``checked``)."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import PortalLink
from patients.portal_links import portal_link_create
from phases.formulation_sharing import formulation_share
from phases.models import FormulationAnswer, Phase
from sessions.measures import measure_record
from sessions.models import EnteredBy, HomeworkEntry
from tests.factories import (
    AssignmentFactory,
    ClinicFactory,
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
    UserFactory,
)
from tests.outbox_run import deliver_due

from .conftest import checked
from .test_questionnaire_progress_journey import _contrast

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN = (
    "Since you went back to work full time, you and Marcus expect different things at home, "
    "and the rows have stopped you talking. We will work on saying what you need."
)


@pytest.fixture
def broker_kept_out(monkeypatch):
    """The send tasks the dispatcher would publish are kept here (the test sends in-process)."""
    from kombu import Producer

    monkeypatch.setattr(Producer, "publish", lambda self, body, *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _quick_answer(settings):
    settings.PORTAL_LOST_LINK_ANSWER_MS = 50


def _rachel():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside", phone="020 7946 0000")
    therapist = UserFactory(username="alice", clinic=clinic, role=Role.THERAPIST)
    patient = PatientFactory(
        primary_therapist=therapist,
        first_name="Rachel",
        last_name="Kemp",
        email="rachel@example.org",
    )
    now = timezone.now()
    course = CourseFactory(
        patient=patient,
        phase=Phase.PROBLEM_SOLVING,
        planned_sessions=16,
        sessions_attended=6,
        start_date=timezone.localdate() - timedelta(days=45),
        formulation="Role dispute with husband (impasse) since her return to full-time work.",
    )
    area = ProblemAreaFactory(course=course, kind="role_dispute", old_role="", new_role="")
    GoalFactory(problem_area=area, text="Tell Marcus one thing I need each week", progress=4)
    formulation_share(course=course, by=therapist, text=PLAIN, expected_version=None)
    for days_ago, answers in ((42, [2] * 9), (21, [2, 2, 1, 1, 2, 1, 1, 1, 0])):
        measure_record(
            course=course,
            instrument="phq9",
            answers=answers,
            entered_by_kind=EnteredBy.PATIENT,
            taken_at=now - timedelta(days=days_ago),
        )
    set_in = SessionFactory(
        course=course, scheduled_start=now - timedelta(days=5), status="attended"
    )
    AssignmentFactory(
        course=course,
        session=set_in,
        kind="communication",
        title="Ask Marcus for twenty minutes on Sunday",
        instructions="Start with what you want for the two of you.",
    )
    SessionFactory(course=course, scheduled_start=now + timedelta(days=2))
    link, url = portal_link_create(patient=patient, by=therapist)
    return course, link, urlsplit(url).path


def test_a_patient_on_a_phone_agrees_reads_writes_answers_and_finds_a_lost_link(
    page: Page, broker_kept_out
):
    course, link, path = _rachel()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    checked(page)
    page.get_by_role("button", name="Open my page").click()
    expect(page.get_by_role("heading", name="Hello Rachel")).to_be_visible()
    checked(page)

    # What we agreed: the formulation in her words, her goal, "7 of 16 sessions held".
    page.get_by_role("link", name=re.compile("What we agreed")).click()
    expect(page.get_by_text(PLAIN)).to_be_visible()
    expect(page.get_by_text("impasse")).to_have_count(0)
    expect(page.get_by_text("Tell Marcus one thing I need each week")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ of 16 sessions held")).first).to_be_visible()
    checked(page)
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your therapist will see your answer.")).to_be_visible()
    checked(page)
    assert FormulationAnswer.objects.get(course=course).answer == "agree"

    # My progress: the chart with a table beside it, in words.
    page.goto("/p/")
    page.get_by_role("link", name="My progress").click()
    expect(page.get_by_role("img", name="Your scores over time")).to_be_visible()
    expect(page.locator("#progress-phq9 tbody tr")).to_have_count(2)
    checked(page)

    # The homework: what she said to Marcus, how he responded, how she felt.
    page.goto("/p/")
    page.get_by_role("link", name="Your homework").click()
    checked(page)
    page.get_by_role("link", name=re.compile(r"Tell us how it went\W+Ask Marcus")).click()
    checked(page)
    page.get_by_label("What I said").fill("Could we have twenty minutes on Sunday, just us?")
    page.get_by_label("How they responded (optional)").fill("He asked what about, then said yes.")
    page.get_by_label("How I felt, from 0 to 10").fill("6")
    page.get_by_label("What I would do next time (optional)").fill("Ask at a calmer moment.")
    page.get_by_role("button", name="Save this entry").click()
    expect(page.get_by_text("He asked what about, then said yes.")).to_be_visible()
    checked(page)
    assert HomeworkEntry.objects.get(assignment__course=course).feeling == 6

    # The PHQ-9, due before her next session: "Question 3 of 9", rows anyone can tap.
    page.goto("/p/")
    expect(page.get_by_text("Due before your next session").first).to_be_visible()
    page.get_by_role("link", name="Mood questionnaire (PHQ-9)").click()
    checked(page)
    questions = page.locator("form fieldset")
    expect(questions.nth(2).locator("legend")).to_contain_text("Question 3 of 9")
    row = page.locator(".answer-row").first
    assert row.evaluate("r => r.getBoundingClientRect().height") >= 44
    border = row.evaluate("r => getComputedStyle(r).borderTopColor")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert _contrast(page, border, background) >= 3
    for index, answer in enumerate([1, 1, 1, 1, 1, 0, 1, 0, 0]):
        questions.nth(index).get_by_role("radio").nth(answer).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    checked(page)

    # She leaves; her link is lost (expired): the dead end points to a new one.
    page.goto("/p/")
    page.get_by_role("button", name=re.compile("Leave")).first.click()
    checked(page)
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page.goto(path)
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    page.get_by_role("link", name="Get a new link").click()
    expect(page.get_by_role("heading", name="Lost your link?")).to_be_visible()
    checked(page)
    page.get_by_label("Your email address or mobile phone number").fill("Rachel@Example.org")
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", name="Check your messages")).to_be_visible()
    checked(page)
    deliver_due()
    [message] = [m for m in mail.outbox if "new personal link" in m.subject]
    assert message.to == ["rachel@example.org"]
    [new_url] = re.findall(r"http://\S+/p/[\w-]{40,}/", message.body)
    new_path = urlsplit(new_url).path
    assert new_path != path
    page.goto(new_path)
    page.get_by_role("button", name="Open my page").click()
    expect(page.get_by_role("heading", name="Hello Rachel")).to_be_visible()
    checked(page)
