from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.measures import measure_record
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_it_raises_a_flag_when_item_9_is_above_0(course, therapist):
    flagged = measure_record(
        course=course, instrument="phq9", answers=[0] * 8 + [1], entered_by=therapist
    )
    clear = measure_record(
        course=course, instrument="phq9", answers=[3] * 8 + [0], entered_by=therapist
    )
    assert flagged.risk_flag is True
    assert clear.risk_flag is False


def test_it_shows_the_open_flag_on_the_session_and_course_pages(
    therapist_client, course, therapist
):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    measure_record(
        course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist, session=session
    )
    for url in (
        reverse("therapy:session", args=[session.pk]),
        reverse("therapy:course_sessions", args=[course.pk]),
    ):
        page = therapist_client.get(url).content.decode()
        assert "Acknowledged by" in page  # typed by the therapist: seen by her
        assert "Close the flag" in page


def test_it_closes_the_flag_with_the_clinicians_response(therapist_client, course, therapist):
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(minutes=5))
    measure = measure_record(
        course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist, session=session
    )
    response = therapist_client.post(
        reverse("therapy:risk_respond", args=[measure.pk]),
        {"action": "safety_plan_reviewed", "response": "Safety plan agreed; crisis line given."},
    )
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.risk_responded_by == therapist
    assert measure.risk_response == "Safety plan agreed; crisis line given."
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Not acknowledged yet." not in page
    assert "Safety plan agreed; crisis line given." in page


def test_it_refuses_an_empty_response(therapist_client, course, therapist):
    measure = measure_record(
        course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist
    )
    therapist_client.post(
        reverse("therapy:risk_respond", args=[measure.pk]), {"action": "other", "response": " "}
    )
    measure.refresh_from_db()
    assert measure.risk_responded_at is None


def test_it_audits_every_view_of_the_session_page(therapist_client, course, therapist):
    from ipt_clinic.audit.models import AuditEvent

    session = SessionFactory(course=course)
    therapist_client.get(reverse("therapy:session", args=[session.pk]))
    event = AuditEvent.objects.get(action="view", object_id=session.pk)
    assert (event.actor, event.patient_id) == (therapist, course.patient_id)
