"""A reassignment never double-books the new therapist: every future session of the course is
checked against their calendar, and a clash refuses the whole move with the list of clashes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.services import course_reassign
from ipt_clinic.audit.models import AuditAction, AuditEvent
from sessions.models import SessionStatus
from tests.factories import SessionFactory

# An ordinary Wednesday morning (Europe/London is on GMT): the sessions below are placed
# against it, and the clash lines are written in clinic time.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def busy_bob(make, other_therapist):
    """Bob already sees Sam on Thursday 10:30-11:20 and on Friday 14:00-14:50."""
    sams_course = make(other_therapist, first_name="Sam", last_name="Busy")
    SessionFactory(course=sams_course, scheduled_start=NOW + timedelta(days=1, hours=1, minutes=30))
    SessionFactory(course=sams_course, scheduled_start=NOW + timedelta(days=2, hours=5))
    return other_therapist


def test_it_refuses_a_reassignment_that_double_books_the_new_therapist(
    make, therapist, busy_bob, clinic_admin
):
    course = make(therapist, first_name="Jamie")
    clashing = SessionFactory(course=course, scheduled_start=NOW + timedelta(days=1, hours=1))
    # Ends as Bob's Friday session starts: back to back is no clash.
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=2, hours=4, minutes=10))
    # Cancelled: not in anyone's calendar.
    SessionFactory(
        course=course,
        scheduled_start=NOW + timedelta(days=2, hours=5),
        status=SessionStatus.CANCELLED_PATIENT,
    )

    with pytest.raises(ValidationError) as refused:
        course_reassign(course=course, to_therapist=busy_bob, by=clinic_admin, reason="Leave")

    assert refused.value.messages == [
        "Bob Quinn is already booked at the time of 1 of this course's future sessions. "
        "Nothing was changed: move these sessions (or the other bookings) first.",
        "Thu 26 Nov 2026 10:00 to 10:50: Bob Quinn already sees Sam Busy "
        "from Thu 26 Nov 2026 10:30 to 11:20.",
    ]
    course.refresh_from_db()
    course.patient.refresh_from_db()
    clashing.refresh_from_db()
    assert course.therapist == therapist
    assert course.patient.primary_therapist == therapist
    assert clashing.therapist == therapist
    assert not AuditEvent.objects.filter(action=AuditAction.REASSIGN).exists()


def test_it_lists_the_clashes_on_the_reassignment_page(make, therapist, busy_bob, admin_client):
    course = make(therapist, first_name="Jamie")
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=1, hours=1))
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=2, hours=5, minutes=20))

    response = admin_client.post(
        reverse("caseload:reassign"),
        {"from": therapist.pk, "course": course.pk, "to_therapist": busy_bob.pk, "reason": "x"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "The reassignment was not made" in page
    assert "already booked at the time of 2 of this course&#x27;s future sessions" in page
    assert "Thu 26 Nov 2026 10:00 to 10:50: Bob Quinn already sees Sam Busy" in page
    assert "Fri 27 Nov 2026 14:20 to 15:10: Bob Quinn already sees Sam Busy" in page
    course.refresh_from_db()
    assert course.therapist == therapist
