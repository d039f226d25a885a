from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from phases.models import PHASE_ORDER
from sessions.models import Measure
from tests.factories import CourseFactory, PatientFactory, ProblemAreaFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _caseload(therapist, count, offset=0):
    now = timezone.now()
    for i in range(offset, offset + count):
        patient = PatientFactory(primary_therapist=therapist)
        if i % 10 == 9:
            continue  # some patients have no course yet
        course = CourseFactory(patient=patient, phase=PHASE_ORDER[i % 4], planned_sessions=12)
        if i % 3:
            ProblemAreaFactory(course=course)
        past = SessionFactory(
            course=course, status="attended", scheduled_start=now - timedelta(days=3)
        )
        SessionFactory(course=course, scheduled_start=now + timedelta(days=4))
        Measure.objects.create(
            clinic=course.clinic,
            course=course,
            session=past,
            instrument="phq9",
            answers=[1] * 9,
            total=9,
            severity="mild",
            risk_flag=bool(i % 2),
            taken_at=now - timedelta(days=3),
        )


def _count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("caseload:therapist_home")).status_code == 200
    return len(queries)


def test_the_home_page_costs_the_same_with_5_and_200_patients(therapist, therapist_client):
    _caseload(therapist, 5)
    few = _count(therapist_client)
    _caseload(therapist, 195, offset=5)
    many = _count(therapist_client)
    assert few == many
