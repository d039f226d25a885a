"""A questionnaire is not filed under a session that has not started yet."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions.measures import measure_form_binding, measure_record
from sessions.models import Measure
from tests.factories import SessionFactory
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db


def test_it_refuses_a_score_under_a_session_ahead(course, therapist):
    ahead = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=7))
    with pytest.raises(ValidationError, match="has not started yet"):
        measure_record(
            course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist, session=ahead
        )
    assert not Measure.objects.exists()


def test_it_refuses_the_staff_form_for_a_session_ahead(therapist_client, course):
    ahead = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=7))
    url = reverse("therapy:measure_new", args=[ahead.pk, "phq9"])
    data = {
        "form_key": fresh_key(measure_form_binding("phq9", session=ahead)),
        **{f"item_{n}": 1 for n in range(1, 10)},
    }
    response = therapist_client.post(url, data)
    assert response.status_code == 200
    assert "has not started yet" in response.content.decode()
    assert not Measure.objects.exists()
    # Neither the session page nor the form offers it.
    page = therapist_client.get(reverse("therapy:session", args=[ahead.pk])).content.decode()
    assert url not in page
    assert therapist_client.get(url).status_code == 302

    # A session that has started takes it.
    started = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=1))
    url = reverse("therapy:measure_new", args=[started.pk, "phq9"])
    data = {
        "form_key": fresh_key(measure_form_binding("phq9", session=started)),
        **{f"item_{n}": 1 for n in range(1, 10)},
    }
    assert therapist_client.post(url, data).status_code == 302
    assert Measure.objects.get().session_id == started.pk
