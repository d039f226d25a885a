"""The note form hands the patient header the open risk flags it has read for its risk
section, and the header reads them no more: it says what the patient's page says (none, one,
several, more than fifty; a flag closed in the note or elsewhere not counted; another
patient's never), in one query fewer."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from phases.models import Phase
from sessions import services
from sessions.models import Measure, SessionStatus
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
HEADER = re.compile(r'<section class="patient-header.*?</section>', re.DOTALL)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _header(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    [header] = HEADER.findall(response.content.decode())
    return " ".join(header.split())


def _flags(course, count, **fields):
    Measure.objects.bulk_create(
        Measure(
            clinic=course.clinic,
            course=course,
            instrument="phq9",
            answers=[1] * 8 + [2],
            total=10,
            severity="moderate",
            risk_flag=True,
            taken_at=NOW - timedelta(days=1, minutes=n),
            **fields,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("open_flags", [0, 1, 3, 51])
def test_the_note_forms_header_is_the_patient_pages(therapist, therapist_client, open_flags):
    patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING, planned_sessions=12)
    session = SessionFactory(
        course=course, status=SessionStatus.ATTENDED, scheduled_start=NOW - timedelta(hours=2)
    )
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=2))
    note = services.note_start(session=session, by=therapist)
    _flags(course, open_flags)
    _flags(course, 2, risk_responded_at=NOW)
    _flags(course, 1, risk_responded_at=NOW, risk_closed_in_note=note)
    _flags(CourseFactory(patient=PatientFactory(primary_therapist=therapist)), 2)
    expected = _header(therapist_client, reverse("patients:detail", args=[patient.pk]))
    url = reverse("therapy:note", args=[session.pk])
    with CaptureQueriesContext(connection) as queries:
        assert _header(therapist_client, url) == expected
    scores = [q["sql"] for q in queries.captured_queries if 'FROM "therapy_measure"' in q["sql"]]
    assert len(scores) == 1  # the risk section's, none for the header
    assert ("Risk flag open" in expected) == (open_flags > 0)
