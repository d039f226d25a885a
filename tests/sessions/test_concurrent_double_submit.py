"""A form sent twice at the same moment (two requests racing through two workers): the key's
claim lets one create the record and answers the other with it, on PostgreSQL's real
concurrency as on SQLite's one writer at a time."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ipt_clinic.submissions.services import AlreadySaved
from notifications.models import Notification
from patients.models import LifeEvent
from patients.services import LIFE_EVENT_FORM, life_event_create
from sessions.models import Assignment
from sessions.services import ASSIGNMENT_FORM, assignment_set
from tests.factories import (
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    SessionFactory,
    UserFactory,
)
from tests.form_keys import fresh_key


def _twice_at_once(send) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run():
        try:
            barrier.wait(timeout=10)
            send()
            outcomes.append("created")
        except AlreadySaved:
            outcomes.append("already saved")
        except Exception as exc:  # noqa: BLE001 - SQLite's "database is locked"
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def _cast():
    clinic = ClinicFactory(slug="racing")
    therapist = UserFactory(username="racing-therapist", clinic=clinic)
    return therapist, CourseFactory(patient=PatientFactory(primary_therapist=therapist))


@pytest.mark.django_db(transaction=True)
def test_it_adds_one_life_event_for_two_sendings_at_once():
    therapist, course = _cast()
    patient = course.patient
    key = fresh_key(LIFE_EVENT_FORM, patient)
    outcomes = _twice_at_once(
        lambda: life_event_create(
            patient=patient,
            by=therapist,
            form_key=key,
            occurred_on=timezone.localdate() - timedelta(days=30),
            description="Moved out of the family home",
            mood_effect=-1,
        )
    )
    assert LifeEvent.objects.filter(patient=patient).count() == 1, outcomes
    if connection.vendor == "postgresql":
        assert outcomes == ["already saved", "created"]


@pytest.mark.django_db(transaction=True)
def test_it_sets_one_homework_with_one_set_of_notices_for_two_sendings_at_once():
    therapist, course = _cast()
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    key = fresh_key(ASSIGNMENT_FORM, session)
    outcomes = _twice_at_once(
        lambda: assignment_set(
            session=session,
            by=therapist,
            form_key=key,
            title="Ask her about Sunday",
            instructions="Use the words we rehearsed.",
            kind="communication",
            relationship=None,
            problem_area=None,
            due_date=timezone.localdate(timezone=session.clinic.tz) + timedelta(days=7),
        )
    )
    assert Assignment.objects.filter(session=session).count() == 1, outcomes
    assert Notification.objects.filter(about_type="assignment").count() == 2
    if connection.vendor == "postgresql":
        assert outcomes == ["already saved", "created"]
