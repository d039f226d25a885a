"""Pages that draw dates never fail on a stored value, however far it lies: a patient whose
record holds dates at both ends of the calendar (a life event on 9999-12-31, a session in
year 1, a score taken in 9999...) has every page of their record, their course and their
therapist's weeks open (200), as every GET row of the access matrix, for the person it lets
in."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

import tests.matrix as matrix
from patients.models import Patient
from phases.models import PhaseTransition, ProblemArea, TreatmentCourse
from sessions.models import Assignment, Measure, TherapySession
from tests.factories import LifeEventFactory, SessionFactory
from tests.security.helpers import allowed_client, rows_with, url_for

pytestmark = pytest.mark.django_db

LAST_DAY, FIRST_DAY = date(9999, 12, 31), date(1, 1, 1)
# The ends of the calendar that a timestamp column holds in both databases, two hours inside
# them, so that a page converting them to the clinic's time has room either way.
LATEST = datetime(9999, 12, 31, 22, 0, tzinfo=UTC)
EARLIEST = datetime(1, 1, 1, 2, 0, tzinfo=UTC)
GET_ROWS = rows_with("get")
THANKS = "portal:questionnaire_thanks"


def _far_world():
    world = matrix.build_world()
    patient, course = world.patient, world.course
    for day in (LAST_DAY, FIRST_DAY):
        LifeEventFactory(patient=patient, occurred_on=day, description=f"Dated {day}")
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=LAST_DAY)
    TreatmentCourse.objects.filter(pk=course.pk).update(
        contract_agreed_on=LAST_DAY, formulation_agreed_on=FIRST_DAY
    )
    ProblemArea.objects.filter(pk=world.problem_area.pk).update(transition_date=LAST_DAY)
    for moment in (LATEST, EARLIEST):
        far = SessionFactory(course=course, scheduled_start=moment)
        # Stored as such, as an import or an old bug could have left it.
        TherapySession.objects.filter(pk=far.pk).update(status="attended")
        Measure.objects.create(
            clinic=world.clinic,
            course=course,
            session=far,
            instrument="phq9",
            answers=[1] * 9,
            total=9,
            severity="mild",
            taken_at=moment,
            entered_by=world.owner,
        )
        PhaseTransition.objects.create(
            clinic=world.clinic,
            course=course,
            kind="forward",
            from_phase="initial",
            to_phase="social",
            by=world.owner,
            at=moment,
        )
    # One scheduled far ahead, for the portal, the reminders and the "next session".
    SessionFactory(course=course, scheduled_start=LATEST - timedelta(days=3))
    Assignment.objects.filter(pk=world.assignment.pk).update(due_date=LAST_DAY)
    TherapySession.objects.filter(pk=world.session.pk).update(scheduled_start=LATEST)
    return world


def test_it_opens_every_page_of_a_record_with_far_dates():
    world = _far_world()
    failed = []
    for name, _, row in GET_ROWS:
        response = allowed_client(world, row).get(url_for(world, name, row))
        # The questionnaire's thank-you page follows a questionnaire sent (404 without one).
        if response.status_code >= 400 and (name, response.status_code) != (THANKS, 404):
            failed.append(f"{name}: {response.status_code}")
    client = allowed_client(world, matrix.Row())
    far = TherapySession.objects.filter(course=world.course).order_by("scheduled_start")
    for session in (far.first(), far.last()):
        for name in ("therapy:session", "therapy:reschedule", "therapy:cancel"):
            response = client.get(reverse(name, args=[session.pk]))
            if response.status_code != 200:
                failed.append(f"{name} of {session.scheduled_start}: {response.status_code}")
        book_next = reverse("therapy:book", args=[world.course.pk])
        response = client.get(book_next, {"after": session.pk})
        if response.status_code != 200:
            failed.append(f"book after {session.scheduled_start}: {response.status_code}")
    assert not failed, failed


@pytest.mark.parametrize("start", ["9999-12-31", "9999-12-27", "0001-01-01", "0001-01-07"])
def test_it_opens_the_week_at_either_end_of_the_calendar(start):
    world = _far_world()
    client = allowed_client(world, matrix.Row(audience="staff"))
    response = client.get(reverse("therapy:week"), {"start": start})
    assert response.status_code == 200
