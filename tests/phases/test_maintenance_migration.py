"""Existing courses migrate to course types without loss (issue 22, point 5): every course
that was there is an acute one afterwards, with its contract, phase and figures as they were,
and no maintenance course appears."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("phases", "0005_problem_area_fields_stage_history_review_ending")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


@pytest.mark.django_db(transaction=True)
def test_every_existing_course_becomes_an_acute_one_as_it_was():
    old = _migrate(BEFORE)
    Clinic = old.get_model("accounts", "Clinic")
    User = old.get_model("accounts", "User")
    Patient = old.get_model("patients", "Patient")
    Course = old.get_model("phases", "TreatmentCourse")
    clinic = Clinic.objects.create(name="Old Clinic", slug="old", time_zone="Europe/London")
    therapist = User.objects.create(username="old.therapist", email="t@old.example", clinic=clinic)
    courses = []
    for number, (phase, status, planned) in enumerate(
        [
            ("problem_solving", "active", 16),
            ("completed", "completed", 20),
            ("social", "dropped_out", 8),
        ]
    ):
        patient = Patient.objects.create(
            clinic=clinic,
            primary_therapist=therapist,
            record_number=f"OLD-{number}",
            first_name="Pat",
            last_name=f"Old{number}",
        )
        courses.append(
            Course.objects.create(
                clinic=clinic,
                patient=patient,
                therapist=therapist,
                start_date=date(2026, 1, 5),
                phase=phase,
                status=status,
                planned_sessions=planned,
                frequency="weekly",
                formulation=f"Formulation {number}",
                sessions_attended=number + 3,
            )
        )

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Course = new.get_model("phases", "TreatmentCourse")
    after = {
        row["pk"]: row
        for row in Course.objects.values(
            "pk",
            "course_type",
            "maintenance_of",
            "phase",
            "status",
            "planned_sessions",
            "formulation",
            "sessions_attended",
        )
    }
    assert len(after) == 3
    for number, course in enumerate(courses):
        assert after[course.pk] == {
            "pk": course.pk,
            "course_type": "acute",
            "maintenance_of": None,
            "phase": course.phase,
            "status": course.status,
            "planned_sessions": course.planned_sessions,
            "formulation": f"Formulation {number}",
            "sessions_attended": number + 3,
        }
