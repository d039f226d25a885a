"""The patient's "My progress" page: their own PHQ-9 and GAD-7 over the course as a chart with
a table beside it, the bands in plain words, a correction counted once, nobody else's scores,
and the same number of queries however many questionnaires there are."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sessions.measures import measure_form_binding, measure_record
from sessions.models import EnteredBy
from tests.factories import CourseFactory
from tests.form_keys import fresh_key

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
URL = reverse("portal:progress")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _self_report(course, instrument, answers, *, days_ago, form_key=None):
    return measure_record(
        course=course,
        instrument=instrument,
        answers=answers,
        entered_by_kind=EnteredBy.PATIENT,
        taken_at=NOW - timedelta(days=days_ago),
        form_key=form_key,
    )


def _page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def _rows(body: str, instrument: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="progress-{instrument}".*?</table>', body, re.S).group(0)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(<td>.*?)</tr>", table, re.S)
    ]


def test_it_draws_the_scores_with_a_table_and_the_bands_in_words(portal_client, course):
    _self_report(course, "phq9", [2, 2, 2, 2, 2, 1, 1, 1, 0], days_ago=28)  # 13
    _self_report(course, "phq9", [1, 1, 1, 1, 1, 1, 1, 0, 0], days_ago=14)  # 7
    _self_report(course, "gad7", [2, 2, 2, 2, 1, 1, 1], days_ago=27)  # 11
    body = _page(portal_client)

    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert 'role="img"' in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert "A lower score means fewer symptoms." in svg
    assert "Mood (PHQ-9): 2 scores, first 13, latest 7." in svg
    # Told apart by shape as well as colour: circles for PHQ-9, squares for GAD-7.
    assert svg.count("<circle") == 2 + 1  # two points and the legend's
    assert svg.count("<rect") == 1 + 1
    assert "Mood (PHQ-9) 13 on 11 Nov" in svg

    assert _rows(body, "phq9") == [
        ["11 November 2026", "13", "A fair number of symptoms"],
        ["25 November 2026", "7", "Some symptoms"],
    ]
    assert _rows(body, "gad7") == [["12 November 2026", "11", "A fair number of symptoms"]]
    assert "0 to 4: few or no symptoms" in body
    assert "20 to 27: a lot of symptoms" in body
    assert "15 to 21: a lot of symptoms" in body
    # Calm words: no severity labels, no alarm colours.
    assert "severe" not in body.lower()
    assert "text-danger" not in body and "bg-danger" not in body


def test_it_counts_a_corrected_questionnaire_once_as_its_correction(portal_client, course):
    key = fresh_key(
        measure_form_binding("phq9", patient_id=course.patient_id, clinic_id=course.clinic_id)
    )
    _self_report(course, "phq9", [3] * 9, days_ago=3, form_key=key)  # 27, then corrected
    _self_report(course, "phq9", [1] * 9, days_ago=3, form_key=key)  # 9
    body = _page(portal_client)
    assert _rows(body, "phq9") == [["6 December 2026", "9", "Some symptoms"]]
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert "Mood (PHQ-9): 1 score, 9." in svg
    assert svg.count("<circle") == 1 + 1  # one point and the legend's


def test_it_shows_only_this_patients_own_questionnaires(portal_client, course, therapist):
    _self_report(course, "phq9", [1] * 9, days_ago=5)  # 9
    other = CourseFactory(patient__primary_therapist=therapist)
    _self_report(other, "phq9", [2] * 9, days_ago=4)  # 18: someone else's
    _self_report(other, "gad7", [2] * 7, days_ago=4)  # 14
    body = _page(portal_client)
    assert _rows(body, "phq9") == [["4 December 2026", "9", "Some symptoms"]]
    assert 'id="progress-gad7"' not in body
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert "Mood (PHQ-9): 1 score, 9. Anxiety (GAD-7): none yet." in svg
    assert svg.count("<circle") == 1 + 1 and svg.count("<rect") == 1


def test_it_shows_the_scores_taken_in_sessions_too_without_what_staff_wrote(
    portal_client, course, therapist
):
    # IPT shares the score with the patient: one typed by the therapist from the patient's
    # answers in a session is theirs as well; the flag's response stays with the staff.
    _self_report(course, "phq9", [1] * 9, days_ago=5)  # 9
    measure_record(
        course=course,
        instrument="phq9",
        answers=[2] * 8 + [1],
        entered_by=therapist,
        taken_at=timezone.now() - timedelta(days=2),
    )
    body = _page(portal_client)
    assert [row[1] for row in _rows(body, "phq9")] == ["9", "17"]
    assert "risk" not in body.lower()


def test_it_says_so_when_there_is_nothing_yet(portal_client, course):
    body = _page(portal_client)
    assert "You have not filled in a questionnaire here yet." in body
    assert "<svg" not in body
    assert "0 to 4: few or no symptoms" in body


def test_its_queries_do_not_grow_with_the_number_of_questionnaires(portal_client, course):
    _self_report(course, "phq9", [1] * 9, days_ago=60)
    with CaptureQueriesContext(connection) as one:
        _page(portal_client)
    for days_ago in range(1, 20):
        _self_report(
            course,
            "phq9" if days_ago % 2 else "gad7",
            [1] * 7 + [0] * 2 if days_ago % 2 else [1] * 7,
            days_ago=days_ago,
        )
    with CaptureQueriesContext(connection) as twenty:
        body = _page(portal_client)
    assert body.count("<tr><td>") == 20
    assert len(twenty) == len(one)


def test_the_home_page_links_to_it(portal_client, course):
    body = portal_client.get(reverse("portal:home")).content.decode()
    assert f'href="{URL}"' in body
    assert "My progress" in body
