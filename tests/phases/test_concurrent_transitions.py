"""Two clinicians (or a double click) advancing the same course at once: the course row lock
and the expected phase let exactly one step through."""

import threading

import pytest
from django.db import connection

from phases.models import Phase, PhaseTransition
from phases.services import TransitionRefused, course_advance
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_concurrent_advances_through():
    clinic = ClinicFactory(slug="concurrent")
    therapist = UserFactory(username="concurrent-therapist", clinic=clinic)
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist), phase=Phase.INITIAL)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def advance():
        try:
            barrier.wait(timeout=10)
            course_advance(
                course=course,
                by=therapist,
                override_reason="Both clicked at once.",
                expected_phase=Phase.INITIAL,
            )
            outcomes.append("advanced")
        except TransitionRefused as refusal:
            outcomes.append(refusal.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=advance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    course.refresh_from_db()
    # The second waits for the first's lock (PostgreSQL's row lock, SQLite's write lock),
    # then finds the phase moved on: the same refusal on both databases, nothing else raised.
    assert sorted(outcomes) == [
        "The course has already moved on: it is now in Social assessment.",
        "advanced",
    ], outcomes
    assert course.phase == Phase.SOCIAL
    assert PhaseTransition.objects.filter(course=course, kind="forward").count() == 1
