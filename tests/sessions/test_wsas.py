"""The WSAS (Work and Social Adjustment Scale) as a third measure: five items 0-8, total 0-40,
banded below 10 / 10-20 / above 20; the work item may go unscored (retired, or not working for
reasons unrelated to the problem); entered by a therapist, kept on the course, drawn in its own
panel under the symptom chart."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from sessions.charts import chart_table_rows, score_chart_svg, wsas_chart_svg
from sessions.measures import measure_form_binding, measure_record
from sessions.models import Measure
from sessions.scoring import WSAS, score, scored_out_of, unscored_words
from sessions.selectors import course_chart_data, course_outcome
from tests.factories import SessionFactory
from tests.form_keys import fresh_key

LONDON = ZoneInfo("Europe/London")


def _answers(total: int, items: int = 5) -> list[int]:
    """Answers (0-8, eights first) adding up to ``total``."""
    answers = [0] * items
    remaining = total
    for index in range(items):
        answers[index] = min(8, remaining)
        remaining -= answers[index]
    assert remaining == 0
    return answers


WSAS_BANDS = [
    (0, "subclinical"),
    (9, "subclinical"),
    (10, "significant impairment"),
    (20, "significant impairment"),
    (21, "severe impairment"),
    (40, "severe impairment"),
]


@pytest.mark.parametrize(("total", "band"), WSAS_BANDS)
def test_it_bands_the_wsas_at_every_threshold(total, band):
    assert score("wsas", _answers(total)) == (total, band)


@pytest.mark.parametrize(("total", "band"), [(9, "subclinical"), (10, "significant impairment")])
def test_it_bands_a_wsas_without_the_work_item_by_the_other_four(total, band):
    answers = [None, *_answers(total, 4)]
    assert score("wsas", answers) == (total, band)
    assert scored_out_of("wsas", answers) == 32
    assert "work item not applicable" in unscored_words("wsas", answers)
    assert "out of 32" in unscored_words("wsas", answers)


@pytest.mark.parametrize("answer", range(9))
def test_it_takes_every_answer_from_0_to_8(answer):
    assert score("wsas", [answer] * 5)[0] == 5 * answer


@pytest.mark.parametrize("answer", [9, -1, 12, "4", 4.0, True, False])
def test_it_refuses_an_answer_outside_0_to_8(answer):
    for position in range(5):
        answers = [1] * 5
        answers[position] = answer
        with pytest.raises(ValidationError, match=f"question {position + 1}: .*0 to 8"):
            score("wsas", answers)


@pytest.mark.parametrize(
    "answers",
    [
        [1] * 4,
        [1] * 6,
        [],
        None,
        [1, None, 1, 1, 1],
        [1, 1, 1, 1, None],
        [None] * 5,
    ],
)
def test_it_refuses_missing_items(answers):
    """Only the work item may go unscored, and only when the form says it does not apply:
    any other gap, or a wrong count, is a questionnaire not filled in."""
    with pytest.raises(ValidationError):
        score("wsas", answers)


def test_the_work_item_is_the_only_one_that_may_go_unscored():
    assert WSAS.may_skip == (1,)
    assert score("wsas", [None, 8, 8, 8, 8]) == (32, "severe impairment")
    # The 0-3 questionnaires still refuse a gap anywhere.
    with pytest.raises(ValidationError, match="question 1 needs an answer"):
        score("phq9", [None] + [1] * 8)


@pytest.mark.django_db
def test_it_records_a_wsas_keeps_its_figures_and_leaves_the_rest_alone(course, therapist):
    measure_record(course=course, instrument="phq9", answers=[2] * 9, entered_by=therapist)
    first = measure_record(
        course=course, instrument="wsas", answers=[6, 6, 5, 4, 3], entered_by=therapist
    )
    assert (first.total, first.severity, first.risk_flag) == (24, "severe impairment", False)
    later = measure_record(
        course=course, instrument="wsas", answers=[None, 2, 3, 2, 2], entered_by=therapist
    )
    assert (later.total, later.severity, later.answers[0]) == (9, "subclinical", None)
    course.refresh_from_db()
    assert (course.baseline_wsas, course.latest_wsas) == (24, 9)
    assert (course.baseline_phq9, course.latest_phq9) == (18, 18)
    assert (course.baseline_gad7, course.latest_gad7) == (None, None)
    outcome = course_outcome(course)
    assert (outcome.wsas.baseline_band, outcome.wsas.latest_band) == (
        "severe impairment",
        "subclinical",
    )
    assert outcome.wsas.change == -15
    # The PHQ-9's response and remission read the PHQ-9 alone.
    assert not outcome.phq9.response and not outcome.remission
    summary = AuditEvent.objects.filter(object_id=str(later.pk)).get().summary
    assert "WSAS recorded (total 9, subclinical); work item not applicable" in summary


def _key(session) -> str:
    return fresh_key(measure_form_binding("wsas", session=session))


def _post(client, session, **items):
    return client.post(
        reverse("therapy:measure_new", args=[session.pk, "wsas"]),
        {"form_key": _key(session), **items},
    )


@pytest.mark.django_db
def test_the_form_says_how_the_work_item_goes_unscored(therapist_client, course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    page = therapist_client.get(reverse("therapy:measure_new", args=[session.pk, "wsas"]))
    body = page.content.decode()
    assert 'id="wsas-work-note"' in body and "out of 32" in body
    for item in WSAS.items:
        assert item in body
    # Nine answers to each question, 0 to 8, and "does not apply" for the first only.
    assert body.count('type="radio"') == 5 * 9 + 1
    assert body.count('value="na"') == 1
    assert 'name="item_1" value="na"' in body
    assert "0 Not at all" in body and "8 Very severely" in body


@pytest.mark.django_db
def test_a_therapist_records_a_wsas_with_the_work_item_not_applicable(therapist_client, course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    response = _post(therapist_client, session, item_1="na", item_2=3, item_3=4, item_4=2, item_5=1)
    assert response.status_code == 302
    measure = Measure.objects.get()
    assert (measure.instrument, measure.answers, measure.total) == ("wsas", [None, 3, 4, 2, 1], 10)
    assert measure.severity == "significant impairment"
    page = therapist_client.get(response["Location"]).content.decode()
    assert "WSAS recorded: 10 (significant impairment). Work item not applicable" in page
    assert "out of 32" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("items", "error"),
    [
        ({"item_1": 2, "item_2": 3, "item_3": 9, "item_4": 2, "item_5": 1}, "Question 3: the answer must be a whole number from 0 to 8."),
        ({"item_1": 2, "item_2": 3, "item_3": 4, "item_4": 2, "item_5": -1}, "Question 5: the answer must be a whole number from 0 to 8."),
        ({"item_1": 2, "item_2": 3, "item_3": 4, "item_4": 2}, "Question 5 needs an answer."),
        ({"item_2": 3, "item_3": 4, "item_4": 2, "item_5": 1}, "Question 1 needs an answer."),
        ({"item_1": 2, "item_2": "na", "item_3": 4, "item_4": 2, "item_5": 1}, "Question 2: the answer must be a whole number from 0 to 8."),
    ],
)  # fmt: skip
def test_the_form_refuses_a_missing_or_out_of_range_item(therapist_client, course, items, error):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    response = _post(therapist_client, session, **items)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Measure.objects.exists()


@pytest.mark.django_db
def test_the_session_page_offers_the_wsas(therapist_client, course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    body = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert reverse("therapy:measure_new", args=[session.pk, "wsas"]) in body


@pytest.mark.django_db
def test_it_draws_the_wsas_in_a_panel_of_its_own(course, therapist):
    measure_record(course=course, instrument="phq9", answers=[2] * 9, entered_by=therapist)
    measure_record(
        course=course,
        instrument="wsas",
        answers=[8, 8, 6, 4, 4],
        entered_by=therapist,
        taken_at=timezone.now() - timedelta(days=14),
    )
    measure_record(
        course=course, instrument="wsas", answers=[None, 2, 3, 2, 2], entered_by=therapist
    )
    data = course_chart_data(course)

    symptoms = str(score_chart_svg(data, tz=LONDON))
    assert "WSAS" not in symptoms  # never read against the PHQ-9's axis and bands
    assert symptoms.count("<circle") == 1

    panel = str(wsas_chart_svg(data, tz=LONDON))
    assert 'role="img"' in panel and "<title id=" in panel and "<desc id=" in panel
    assert "on its own scale of 0 to 40" in panel
    for label in ("40", "30", "20", "10"):
        assert f'text-anchor="end" fill="#212529">{label}</text>' in panel
    assert "WSAS 10 (significant impairment)" in panel
    assert "WSAS 21 (severe impairment)" in panel
    assert "PHQ-9" not in panel
    assert panel.count("<path") == 2  # a diamond per score
    assert "first 30 (severe impairment), latest 9 (subclinical)" in panel
    assert "work item not applicable" in panel  # the second score's tooltip
    # The two panels share their time axis: the same dates under both.
    ticks = re.compile(r'text-anchor="middle" fill="#212529">(\d\d \w{3} \d{4})</text>')
    assert ticks.findall(symptoms) == ticks.findall(panel)

    rows = chart_table_rows(data, LONDON)
    assert [(r["instrument"], r["total"], r["severity"]) for r in rows] == [
        ("WSAS", "30", "severe impairment"),
        ("PHQ-9", "18", "moderately severe"),
        ("WSAS", "9", "subclinical"),
    ]
    assert [bool(r["unscored"]) for r in rows] == [False, False, True]


@pytest.mark.django_db
def test_a_course_without_a_wsas_has_no_panel(course, therapist):
    measure_record(course=course, instrument="phq9", answers=[2] * 9, entered_by=therapist)
    assert str(wsas_chart_svg(course_chart_data(course), tz=LONDON)) == ""


@pytest.mark.django_db
def test_the_course_page_shows_the_wsas_outcome_and_panel(therapist_client, course, therapist):
    measure_record(course=course, instrument="wsas", answers=[4, 4, 4, 4, 4], entered_by=therapist)
    body = therapist_client.get(reverse("therapy:course_sessions", args=[course.pk])).content
    body = body.decode()
    assert 'id="wsas-chart"' in body
    assert re.search(r'id="outcome-wsas">baseline 20 \(significant impairment\)', body)
