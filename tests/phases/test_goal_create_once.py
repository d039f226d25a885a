"""A goal set from a form sent twice is set once; the same form sent again with another goal
is refused, the text kept on a fresh form."""

import pytest
from django.urls import reverse

from phases.models import Goal
from tests.factories import ProblemAreaFactory
from tests.form_keys import key_on

pytestmark = pytest.mark.django_db


def _goal(text: str, key: str) -> dict:
    return {"text": text, "status": "open", "progress": "1", "form_key": key}


def test_it_sets_a_goal_sent_twice_once(therapist_client, course):
    area = ProblemAreaFactory(course=course)
    url = reverse("phases:goal_create", args=[area.pk])
    data = _goal("Phone one friend a week", key_on(therapist_client.get(url)))
    first = therapist_client.post(url, data)
    second = therapist_client.post(url, data, follow=True)
    assert first.status_code == 302
    assert second.redirect_chain == [(first["Location"], 302)]
    assert "Already saved" in second.content.decode()
    assert Goal.objects.filter(problem_area=area).count() == 1


def test_it_refuses_the_same_form_sent_with_another_goal(therapist_client, course):
    area = ProblemAreaFactory(course=course)
    url = reverse("phases:goal_create", args=[area.pk])
    key = key_on(therapist_client.get(url))
    therapist_client.post(url, _goal("Phone one friend a week", key))
    refused = therapist_client.post(url, _goal("Say no once a week", key))
    body = refused.content.decode()
    assert "already sent and saved as the goal “Phone one friend a week”" in body
    assert "Say no once a week" in body
    assert list(Goal.objects.filter(problem_area=area).values_list("text", flat=True)) == [
        "Phone one friend a week"
    ]
    assert (
        therapist_client.post(url, _goal("Say no once a week", key_on(refused))).status_code == 302
    )
    assert Goal.objects.filter(problem_area=area).count() == 2
