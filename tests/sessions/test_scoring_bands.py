from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions.measures import measure_form_binding, measure_record
from sessions.models import Measure
from sessions.scoring import score
from tests.factories import SessionFactory
from tests.form_keys import fresh_key


def _answers(total: int, items: int) -> list[int]:
    """Answers adding up to ``total`` (threes first), item 9 kept at 0 where possible."""
    answers = [0] * items
    remaining = total
    for index in range(items):
        answers[index] = min(3, remaining)
        remaining -= answers[index]
    assert remaining == 0
    return answers


PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately severe"),
    (19, "moderately severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BANDS)
def test_it_bands_phq9_at_every_boundary(total, band):
    assert score("phq9", _answers(total, 9)) == (total, band)


@pytest.mark.parametrize(("total", "band"), GAD7_BANDS)
def test_it_bands_gad7_at_every_boundary(total, band):
    assert score("gad7", _answers(total, 7)) == (total, band)


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("phq9", [1] * 8),
        ("phq9", [1] * 10),
        ("phq9", [1] * 8 + [4]),
        ("phq9", [1] * 8 + [-1]),
        ("phq9", [1] * 8 + [None]),
        ("phq9", [1] * 8 + ["2"]),
        ("gad7", [1] * 6),
        ("gad7", [0] * 6 + [True]),
    ],
)
def test_it_refuses_missing_or_out_of_range_items(instrument, answers):
    with pytest.raises(ValidationError):
        score(instrument, answers)


@pytest.mark.django_db
def test_it_saves_nothing_when_an_item_is_out_of_range(course, therapist):
    with pytest.raises(ValidationError, match="question 9"):
        measure_record(
            course=course, instrument="phq9", answers=[1] * 8 + [5], entered_by=therapist
        )
    assert not Measure.objects.exists()


def _key(session, instrument: str) -> str:
    return fresh_key(measure_form_binding(instrument, session=session))


@pytest.mark.django_db
def test_it_computes_the_total_from_the_items_posted(therapist_client, course):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    data = {"form_key": _key(session, "gad7"), **{f"item_{n}": 2 for n in range(1, 8)}}
    response = therapist_client.post(
        reverse("therapy:measure_new", args=[session.pk, "gad7"]), data
    )
    assert response.status_code == 302
    measure = Measure.objects.get()
    assert (measure.total, measure.severity, measure.session_id) == (14, "moderate", session.pk)
    course.refresh_from_db()
    assert course.baseline_gad7 == 14


@pytest.mark.django_db
def test_it_refuses_a_form_with_a_missing_item(therapist_client, course):
    session = SessionFactory(course=course)
    data = {"form_key": _key(session, "phq9"), **{f"item_{n}": 1 for n in range(1, 9)}}  # no item 9
    response = therapist_client.post(
        reverse("therapy:measure_new", args=[session.pk, "phq9"]), data
    )
    assert response.status_code == 200
    assert "Question 9 needs an answer." in response.content.decode()
    assert not Measure.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_form_with_an_out_of_range_item(therapist_client, course):
    session = SessionFactory(course=course)
    data = {"form_key": _key(session, "phq9"), **{f"item_{n}": 1 for n in range(1, 9)}, "item_9": 7}
    response = therapist_client.post(
        reverse("therapy:measure_new", args=[session.pk, "phq9"]), data
    )
    assert response.status_code == 200
    assert "Question 9: the answer must be 0, 1, 2 or 3." in response.content.decode()
    assert not Measure.objects.exists()
