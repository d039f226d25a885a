"""The WSAS in the portal: the patient fills it in from their link (the work item may be
answered "does not apply"), sees it on "My progress" in a chart of its own, and reads it in
the scale's validated English with the portal's own words in their language."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from patients.models import Language
from portal.selectors import questionnaire_language_note
from sessions.measures import measure_record
from sessions.models import EnteredBy, Measure
from sessions.scoring import WSAS
from tests.form_keys import key_on

from .links import open_portal

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
URL = reverse("portal:questionnaire", kwargs={"instrument": "wsas"})


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _answers(values) -> dict:
    return {f"item_{n}": v for n, v in enumerate(values, start=1)}


def _send(client, values):
    return client.post(URL, {"form_key": key_on(client.get(URL)), **_answers(values)})


def test_the_home_page_offers_it(portal_client):
    body = portal_client.get(reverse("portal:home")).content.decode()
    assert f'href="{URL}"' in body
    assert "Work and daily life questionnaire (WSAS)" in body


def test_it_shows_the_five_questions_0_to_8_and_how_to_leave_out_work(portal_client):
    body = portal_client.get(URL).content.decode()
    assert "Work and daily life questionnaire (WSAS)" in body
    for item in WSAS.items:
        assert item in body
    assert body.count("Question 1 of 5") == 1 and "Question 5 of 5" in body
    assert body.count('type="radio"') == 5 * 9 + 1
    assert 'name="item_1" value="na"' in body
    assert WSAS.skip_label in body
    assert 'id="wsas-work-note"' in body
    assert "0 Not at all" in body and "8 Very severely" in body
    assert "last 2 weeks" not in body  # the PHQ-9's and GAD-7's question, not the WSAS's


def test_it_stores_a_patient_entered_wsas_with_the_work_item_unscored(portal_client, course):
    response = _send(portal_client, ["na", 3, 4, 2, 1])
    assert response.status_code == 302
    measure = Measure.objects.get(course=course)
    assert measure.entered_by_kind == EnteredBy.PATIENT and measure.entered_by is None
    assert (measure.answers, measure.total, measure.severity) == (
        [None, 3, 4, 2, 1],
        10,
        "significant impairment",
    )
    assert not measure.risk_flag
    course.refresh_from_db()
    assert (course.baseline_wsas, course.latest_wsas) == (10, 10)
    assert course.latest_phq9 is None
    assert "Thank you" in portal_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, "", 2, 1],  # question 3 unanswered
        [1, 2, 3, 2, 9],  # 9 is off the scale
        [1, "na", 3, 2, 1],  # only the work item may be left out
    ],
)
def test_it_refuses_a_missing_or_out_of_range_answer(portal_client, course, values):
    response = _send(portal_client, values)
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert not Measure.objects.exists()


def test_a_spanish_patient_reads_the_portals_words_in_spanish_and_the_scale_in_english(
    portal_link, course
):
    course.patient.language = Language.SPANISH
    course.patient.save()
    client = Client()
    open_portal(client, portal_link[1])
    body = client.get(URL).content.decode()
    assert '<html lang="es">' in body
    assert questionnaire_language_note("wsas", "es") in body
    assert "Cuestionario sobre el trabajo y la vida diaria (WSAS)" in body
    assert "A veces los problemas de una persona" in body
    for item in WSAS.items:
        assert item in body
    home = client.get(reverse("portal:home")).content.decode()
    assert "Cuestionario sobre el trabajo y la vida diaria (WSAS)" in home


def _self_report(course, answers, *, days_ago):
    return measure_record(
        course=course,
        instrument="wsas",
        answers=answers,
        entered_by_kind=EnteredBy.PATIENT,
        taken_at=NOW - timedelta(days=days_ago),
    )


def test_my_progress_shows_the_wsas_on_its_own_scale(portal_client, course):
    measure_record(
        course=course,
        instrument="phq9",
        answers=[2] * 9,
        entered_by_kind=EnteredBy.PATIENT,
        taken_at=NOW - timedelta(days=20),
    )
    _self_report(course, [8, 6, 6, 4, 4], days_ago=21)  # 28
    _self_report(course, [None, 3, 2, 2, 1], days_ago=7)  # 8
    body = portal_client.get(reverse("portal:progress")).content.decode()

    charts = re.findall(r"<svg.*?</svg>", body, re.S)
    assert len(charts) == 2
    symptoms, wsas = charts
    assert "WSAS" not in symptoms
    assert "from 0 to 40" in wsas and ">40</text>" in wsas
    assert "Work and daily life (WSAS): 2 scores, first 28, latest 8." in wsas
    assert wsas.count("<path") == 2 + 1  # two points and the legend's

    table = re.search(r'<table[^>]*id="progress-wsas".*?</table>', body, re.S).group(0)
    assert re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table) == [
        ("18 November 2026", "28", "Gets in the way of everyday life a great deal"),
        ("2 December 2026", "8", "Little effect on everyday life"),
    ]
    assert 'id="about-wsas"' in body
    assert "21 to 40: gets in the way of everyday life a great deal" in body
    assert "severe" not in body.lower()
