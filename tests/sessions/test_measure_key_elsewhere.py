"""A questionnaire form's key from somewhere else (another clinic's session, another session,
another questionnaire) is refused with a clear message: nothing is recorded, nothing of the
other record is shown, and the answers stay on the form with a fresh key."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.measures import measure_form_binding, measure_record
from sessions.models import Measure
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory
from tests.form_keys import fresh_key, key_on

pytestmark = pytest.mark.django_db

REFUSED = "This form belongs to another record, another form or another clinic"


def _answers(values: list[int], key: str) -> dict:
    return {"form_key": key, **{f"item_{n}": v for n, v in enumerate(values, start=1)}}


def _session(course):
    return SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))


def test_it_refuses_a_key_from_another_clinics_questionnaire(
    therapist_client, course, other_clinic
):
    elsewhere = _session(
        CourseFactory(patient=PatientFactory(primary_therapist=UserFactory(clinic=other_clinic)))
    )
    key = fresh_key(measure_form_binding("phq9", session=elsewhere))
    theirs = measure_record(
        course=elsewhere.course,
        instrument="phq9",
        answers=[3] * 8 + [0],
        session=elsewhere,
        form_key=key,
    )
    session = _session(course)
    url = reverse("therapy:measure_new", args=[session.pk, "phq9"])

    refused = therapist_client.post(url, _answers([1] * 8 + [2], key))
    body = refused.content.decode()
    assert refused.status_code == 200
    assert REFUSED in body
    assert "(severe)" not in body and "recorded:" not in body  # nothing of the other score
    assert 'name="item_9" value="2" id="id_item_9_2" required checked' in body  # answers kept
    assert not Measure.objects.filter(course=course).exists()
    theirs.refresh_from_db()
    assert theirs.superseded_at is None and theirs.total == 24

    assert therapist_client.post(url, _answers([1] * 8 + [2], key_on(refused))).status_code == 302
    mine = Measure.objects.get(course=course)
    assert (mine.total, mine.risk_flag, mine.clinic_id) == (10, True, course.clinic_id)


def test_it_refuses_a_key_from_another_session_or_questionnaire(therapist_client, course):
    session, other_session = _session(course), _session(course)
    url = reverse("therapy:measure_new", args=[session.pk, "phq9"])
    for binding in (
        measure_form_binding("phq9", session=other_session),
        measure_form_binding("gad7", session=session),
    ):
        refused = therapist_client.post(url, _answers([1] * 9, fresh_key(binding)))
        assert REFUSED in refused.content.decode()
    assert not Measure.objects.exists()
