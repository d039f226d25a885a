from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from phases.models import PHASE_ORDER
from sessions.models import Measure, SessionNote
from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, ProblemAreaFactory, SessionFactory
from tests.phases.maintenance_cast import maintenance_course

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


def _history(therapist, other_therapist, patients, sessions_each, now):
    """Each patient's record grows by ``sessions_each`` past sessions of every kind the day's
    lists look at: attended with a signed note, with a draft, with none, not marked, handed
    over by another therapist, and booked ones ahead."""
    for patient in patients:
        course = patient.courses.get()
        for i in range(sessions_each):
            day = now - timedelta(days=3 + i)
            signed = SessionFactory(course=course, status="attended", scheduled_start=day)
            SessionNote.objects.create(
                clinic=course.clinic, session=signed, phase=course.phase, signed_at=now
            )
            draft = SessionFactory(
                course=course, status="attended", scheduled_start=day + timedelta(hours=2)
            )
            SessionNote.objects.create(clinic=course.clinic, session=draft, phase=course.phase)
            SessionFactory(
                course=course, status="attended", scheduled_start=day + timedelta(hours=4)
            )
            SessionFactory(course=course, scheduled_start=day + timedelta(hours=6))
            handed = SessionFactory(
                course=course,
                therapist=other_therapist,
                status="attended",
                scheduled_start=day + timedelta(hours=8),
            )
            SessionNote.objects.create(
                clinic=course.clinic, session=handed, phase=course.phase, signer=therapist
            )
            SessionFactory(course=course, scheduled_start=now + timedelta(days=2 + i))


def test_the_days_lists_cost_the_same_with_a_short_and_a_long_history(therapist, other_therapist):
    # Wednesday noon in London: today's sessions lie either side of it.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        client = login(Client(), therapist)
        patients = []
        for _ in range(3):
            patient = PatientFactory(primary_therapist=therapist)
            course = CourseFactory(patient=patient, planned_sessions=12)
            SessionFactory(course=course, scheduled_start=now - timedelta(hours=2))
            SessionFactory(course=course, scheduled_start=now + timedelta(hours=3))
            patients.append(patient)
        _history(therapist, other_therapist, patients, 1, now)
        short = _count(client)
        page = client.get(reverse("caseload:therapist_home")).content.decode()
        assert 'id="home-close-out"' in page
        _history(therapist, other_therapist, patients, 12, now)
        long = _count(client)
    assert short == long


def test_a_maintenance_course_and_its_boosters_cost_nothing_more(therapist, therapist_client):
    _caseload(therapist, 3)
    acute_only = _count(therapist_client)
    course = maintenance_course(therapist)
    assert course.is_maintenance
    page = therapist_client.get(reverse("caseload:therapist_home")).content.decode()
    assert "Jamie" in page
    assert _count(therapist_client) == acute_only
