"""Builders for the clinic admin's review tests: courses with sessions, notes and measures
placed in time relative to now."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ipt_clinic.accounts.models import Role
from phases.models import CourseStatus, Phase
from sessions.models import Measure, SessionNote, SessionStatus
from tests.conftest import login
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
    UserFactory,
)


def make_course(
    therapist,
    *,
    phase=Phase.PROBLEM_SOLVING,
    status=CourseStatus.ACTIVE,
    started_days_ago=30,
    planned=12,
    attended_days_ago=(),
    no_show_days_ago=(),
    upcoming_days=(),
    phq9_days_ago=None,
    open_risk=False,
    unsigned_note_days_ago=None,
    problem_area=None,
    baseline=None,
    final=None,
    ended_days_ago=None,
    **patient_fields,
):
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist, **patient_fields)
    course = CourseFactory(
        patient=patient,
        phase=phase,
        status=status,
        planned_sessions=planned,
        start_date=timezone.localdate() - timedelta(days=started_days_ago),
        baseline_phq9=baseline,
        latest_phq9=final,
        latest_phq9_at=(now - timedelta(days=phq9_days_ago)) if phq9_days_ago is not None else None,
        ended_at=(now - timedelta(days=ended_days_ago)) if ended_days_ago is not None else None,
    )
    for days in attended_days_ago:
        SessionFactory(
            course=course, scheduled_start=now - timedelta(days=days), status=SessionStatus.ATTENDED
        )
    for days in no_show_days_ago:
        SessionFactory(
            course=course, scheduled_start=now - timedelta(days=days), status=SessionStatus.NO_SHOW
        )
    for days in upcoming_days:
        SessionFactory(course=course, scheduled_start=now + timedelta(days=days))
    if unsigned_note_days_ago is not None:
        session = SessionFactory(
            course=course,
            scheduled_start=now - timedelta(days=unsigned_note_days_ago),
            status=SessionStatus.ATTENDED,
        )
        SessionNote.objects.create(
            clinic=course.clinic,
            session=session,
            phase=phase,
            narrative="She spoke about the row with her sister at length.",
            formulation_discussed="Role dispute with her sister, impasse.",
        )
    if open_risk:
        Measure.objects.create(
            clinic=course.clinic,
            course=course,
            instrument="phq9",
            answers=[2, 2, 2, 2, 2, 2, 2, 2, 1],
            total=17,
            severity="moderately_severe",
            risk_flag=True,
            taken_at=now - timedelta(days=1),
        )
    if problem_area:
        ProblemAreaFactory(course=course, kind=problem_area)
    return course


@pytest.fixture
def make():
    return make_course


@pytest.fixture
def admin_client(clinic_admin):
    return login(Client(), clinic_admin)


@pytest.fixture
def other_admin_client(other_clinic_admin):
    return login(Client(), other_clinic_admin)


@pytest.fixture
def other_clinic_therapist(other_clinic):
    return UserFactory(username="erin", clinic=other_clinic, role=Role.THERAPIST)


__all__ = ["ClinicFactory", "make_course"]
