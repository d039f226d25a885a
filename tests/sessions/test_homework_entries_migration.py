"""Existing homework migrates without loss to homework with entries (issue 23, point 3): every
assignment keeps its kind, status, reflection and review, none gains an entry it did not have,
and the new table holds its rules (a log's mood 0-10, one entry a day) on the migrated rows."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("therapy", "0011_worksheets")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


@pytest.mark.django_db(transaction=True)
def test_existing_homework_keeps_everything_and_takes_entries():
    old = _migrate(BEFORE)
    Clinic = old.get_model("accounts", "Clinic")
    User = old.get_model("accounts", "User")
    Patient = old.get_model("patients", "Patient")
    Course = old.get_model("phases", "TreatmentCourse")
    Session = old.get_model("therapy", "TherapySession")
    Assignment = old.get_model("therapy", "Assignment")
    clinic = Clinic.objects.create(name="Old Clinic", slug="old", time_zone="Europe/London")
    therapist = User.objects.create(username="old.therapist", email="t@old.example", clinic=clinic)
    patient = Patient.objects.create(
        clinic=clinic,
        primary_therapist=therapist,
        record_number="OLD-1",
        first_name="Pat",
        last_name="Old",
    )
    course = Course.objects.create(
        clinic=clinic,
        patient=patient,
        therapist=therapist,
        start_date=date(2026, 9, 7),
        phase="problem_solving",
        status="active",
        planned_sessions=16,
        frequency="weekly",
    )
    session = Session.objects.create(
        clinic=clinic,
        course=course,
        therapist=therapist,
        scheduled_start=datetime(2026, 11, 2, 10, tzinfo=UTC),
        status="attended",
        phase="problem_solving",
    )
    rows = [
        ("communication", "done", "I asked him; he listened.", session),
        ("log", "done", "Low on Monday, better after seeing Sam.", None),
        ("reading", "not_done", "", None),
        ("role_play", "assigned", "", None),
    ]
    made = [
        Assignment.objects.create(
            clinic=clinic,
            course=course,
            session=session,
            title=f"Homework {number}",
            instructions="As agreed.",
            kind=kind,
            due_date=date(2026, 11, 9),
            status=status,
            reflection=reflection,
            reviewed_in=reviewed_in,
        )
        for number, (kind, status, reflection, reviewed_in) in enumerate(rows)
    ]

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Assignment = new.get_model("therapy", "Assignment")
    HomeworkEntry = new.get_model("therapy", "HomeworkEntry")
    after = {
        row["pk"]: row
        for row in Assignment.objects.values(
            "pk", "kind", "status", "reflection", "reviewed_in", "title"
        )
    }
    for number, ((kind, status, reflection, reviewed_in), assignment) in enumerate(
        zip(rows, made, strict=True)
    ):
        assert after[assignment.pk] == {
            "pk": assignment.pk,
            "kind": kind,
            "status": status,
            "reflection": reflection,
            "reviewed_in": reviewed_in.pk if reviewed_in else None,
            "title": f"Homework {number}",
        }
    assert not HomeworkEntry.objects.exists()

    log = made[1]
    HomeworkEntry.objects.create(
        clinic_id=clinic.pk, assignment_id=log.pk, kind="log", entry_date=date(2026, 11, 3), mood=4
    )
    for bad in (
        {"entry_date": date(2026, 11, 3), "mood": 6},
        {"entry_date": date(2026, 11, 4), "mood": 11},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            HomeworkEntry.objects.create(
                clinic_id=clinic.pk, assignment_id=log.pk, kind="log", **bad
            )
