"""The portal's questionnaire page: "Question 3 of 9" in each question's legend, answers as
labelled rows, the "Due before your next session" badge on the page and the home page when the
course's PHQ-9 is due (sessions.measure_schedule), and the slot the page keeps answers in."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from phases.models import TreatmentCourse
from sessions.measures import measure_record
from sessions.models import EnteredBy
from tests.factories import SessionFactory
from tests.form_keys import key_on

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
BADGE = "Due before your next session"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _get(client, name, **kwargs) -> str:
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    return response.content.decode()


def test_it_numbers_each_question_in_its_legend(portal_client, course):
    body = _get(portal_client, "portal:questionnaire", instrument="phq9")
    legends = re.findall(r"<legend[^>]*>(.*?)</legend>", body, re.S)
    assert len(legends) == 9
    assert "Question 3 of 9" in legends[2]
    assert "Trouble falling or staying asleep" in legends[2]
    body = _get(portal_client, "portal:questionnaire", instrument="gad7")
    assert "Question 7 of 7" in body and "Question 8 of" not in body
    # Every answer is a labelled row around its radio button.
    assert len(re.findall(r'<label class="answer-row" for="id_item_1_\d">', body)) == 4


def test_it_shows_the_badge_when_the_phq9_is_due_before_the_next_session(portal_client, course):
    TreatmentCourse.objects.filter(pk=course.pk).update(latest_phq9_at=NOW - timedelta(days=12))
    assert BADGE not in _get(portal_client, "portal:questionnaire", instrument="phq9")
    assert BADGE not in _get(portal_client, "portal:home")
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=3))  # 15 days by then
    assert BADGE in _get(portal_client, "portal:questionnaire", instrument="phq9")
    assert BADGE in _get(portal_client, "portal:home")
    # The rule is the PHQ-9's: the GAD-7 has no schedule of its own.
    assert BADGE not in _get(portal_client, "portal:questionnaire", instrument="gad7")


def test_the_badge_goes_once_the_phq9_is_sent(portal_client, course):
    TreatmentCourse.objects.filter(pk=course.pk).update(latest_phq9_at=NOW - timedelta(days=30))
    assert BADGE in _get(portal_client, "portal:home")
    page = portal_client.get(reverse("portal:questionnaire", kwargs={"instrument": "phq9"}))
    response = portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": key_on(page), **{f"item_{n}": 1 for n in range(1, 10)}},
    )
    assert response.status_code == 302
    assert BADGE not in _get(portal_client, "portal:home")
    assert BADGE not in _get(portal_client, "portal:questionnaire", instrument="phq9")


def test_a_maintenance_course_keeps_its_monthly_check_in_instead(portal_client, course):
    TreatmentCourse.objects.filter(pk=course.pk).update(
        course_type="maintenance", latest_phq9_at=NOW - timedelta(days=30)
    )
    assert BADGE not in _get(portal_client, "portal:home")


def test_the_thank_you_page_names_the_slot_the_questionnaire_kept_answers_in(portal_client, course):
    page = _get(portal_client, "portal:questionnaire", instrument="gad7")
    [slot] = re.findall(r'data-keep-answers="([^"]+)"', page)
    assert slot.endswith("/therapy.self_report.gad7")
    assert re.fullmatch(r"[0-9a-f]{20}", slot.split("/")[0])  # a hash: not who the patient is
    measure = measure_record(
        course=course, instrument="gad7", answers=[0] * 7, entered_by_kind=EnteredBy.PATIENT
    )
    thanks = _get(portal_client, "portal:questionnaire_thanks", measure_id=measure.pk)
    assert f'data-questionnaire-sent="{slot}"' in thanks
    assert "js/questionnaire" in thanks and "<script>" not in thanks


def test_a_questionnaire_sent_with_gaps_names_and_links_the_questions_still_to_answer(
    portal_client, course
):
    page = _get(portal_client, "portal:questionnaire", instrument="gad7")
    answers = {f"item_{n}": 1 for n in (1, 3, 5, 6, 7)}  # 2 and 4 left out
    response = portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "gad7"}),
        {"form_key": key_on(page), **answers},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please answer every question." in body
    missing = re.search(r'<ul class="list-inline mb-0" id="still-to-answer">(.*?)</ul>', body, re.S)
    assert missing is not None
    links = re.findall(r'<a href="#(id_item_\d-question)">(.*?)</a>', missing.group(1))
    assert links == [("id_item_2-question", "Question 2"), ("id_item_4-question", "Question 4")]
    # Each link leads to its question on the page, which takes the focus it is given.
    for number in (2, 4):
        assert f'<fieldset class="question" id="id_item_{number}-question" tabindex="-1"' in body
