"""Each ending opens a confirmation page first (issue 19, point 2): it lists the future
sessions that will be cancelled (with their dates), the reminders and the open homework
notices that will be withdrawn; its form does it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from notifications.models import Notification
from phases.models import CourseStatus, Phase, TreatmentCourse
from sessions import notices
from sessions.models import SessionStatus, TherapySession
from tests.factories import AssignmentFactory, CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A Wednesday, 10:00 UTC (10:00 in London, the clinic's time zone, in winter time).
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _booked(therapist, phase=Phase.PROBLEM_SOLVING):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist), phase=phase)
    for days in (1, 8):
        notices.on_session_booked(
            SessionFactory(course=course, scheduled_start=NOW + timedelta(days=days, hours=4))
        )
    notices.on_assignment_set(AssignmentFactory(course=course))
    return course


def _plan_text(page) -> str:
    return " ".join(page.content.decode().split())


def test_it_lists_what_a_drop_out_cancels_and_its_form_does_it(therapist, therapist_client):
    course = _booked(therapist)
    course_page = therapist_client.get(reverse("phases:course", args=[course.pk]))
    url = reverse("therapy:course_end_confirm", args=[course.pk, "drop-out"])
    assert url in course_page.content.decode()

    page = therapist_client.get(url)
    assert page.status_code == 200
    text = _plan_text(page)
    assert "2 future sessions will be cancelled" in text
    tz = course.clinic.tz
    for session in TherapySession.objects.filter(course=course):
        assert f"{session.scheduled_start.astimezone(tz):%a %-d %b %Y, %H:%M}" in text
    assert "2 reminders withdrawn" in text
    assert "2 open homework notices withdrawn" in text
    assert TherapySession.objects.filter(course=course, status=SessionStatus.SCHEDULED).count() == 2

    response = therapist_client.post(
        reverse("phases:drop_out", args=[course.pk]), {"reason": "Moved away."}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.DROPPED_OUT
    assert not TherapySession.objects.filter(course=course, status=SessionStatus.SCHEDULED).exists()
    assert not Notification.objects.filter(patient_id=course.patient_id, status="pending").exists()


def test_it_confirms_completing_the_course_from_termination(therapist, therapist_client):
    course = _booked(therapist, phase=Phase.TERMINATION)
    url = reverse("therapy:course_end_confirm", args=[course.pk, "complete"])
    # The course page leads to the decided ending (phases:ending), which leads here.
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert reverse("phases:ending", args=[course.pk]) in page
    text = _plan_text(therapist_client.get(url))
    assert "2 future sessions will be cancelled" in text
    assert 'name="expected_phase" value="termination"' in text


def test_it_lists_what_discharge_and_archive_cancel(therapist, therapist_client):
    course = _booked(therapist)
    TreatmentCourse.objects.filter(pk=course.pk).update(status=CourseStatus.COMPLETED)
    detail = therapist_client.get(reverse("patients:detail", args=[course.patient_id]))
    for ending in ("discharge", "archive"):
        url = reverse("therapy:patient_end_confirm", args=[course.patient_id, ending])
        assert url in detail.content.decode()
        text = _plan_text(therapist_client.get(url))
        assert "2 future sessions will be cancelled" in text
        assert reverse(f"patients:{ending}", args=[course.patient_id]) in text
