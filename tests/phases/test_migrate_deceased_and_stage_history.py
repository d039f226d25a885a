"""Existing courses move to the manual's fields without loss (issue 22, point 6): a database
holding people of the old kind "deceased", grief areas naming the dead by a person or by a
typed name with the area's own date, and role disputes whose stage changes reached only the
audit trail is migrated forward (patients 0003, phases 0005), and every fact is still there."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("patients", "0002_edit_versions"), ("phases", "0004_edit_versions")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    # Every app as the database now stands (the others stay at their latest).
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_it_moves_the_dead_into_the_inventory_and_the_stages_into_a_history():
    old = _migrate(BEFORE)
    Clinic = old.get_model("accounts", "Clinic")
    User = old.get_model("accounts", "User")
    Patient = old.get_model("patients", "Patient")
    Relationship = old.get_model("patients", "Relationship")
    Revision = old.get_model("patients", "RelationshipRevision")
    Course = old.get_model("phases", "TreatmentCourse")
    Area = old.get_model("phases", "ProblemArea")
    AuditEvent = old.get_model("audit", "AuditEvent")

    clinic = Clinic.objects.create(name="Old Clinic", slug="old", time_zone="Europe/London")
    therapist = User.objects.create(username="old.therapist", email="t@old.example", clinic=clinic)
    colleague = User.objects.create(username="old.colleague", email="c@old.example", clinic=clinic)
    patient = Patient.objects.create(
        clinic=clinic,
        primary_therapist=therapist,
        record_number="OLD-1",
        first_name="Margaret",
        last_name="Doyle",
    )
    course = Course.objects.create(
        clinic=clinic, patient=patient, therapist=therapist, start_date=date(2026, 1, 5)
    )
    frank = Relationship.objects.create(
        clinic=clinic, patient=patient, name="Frank", kind="deceased"
    )
    Revision.objects.create(
        clinic=clinic,
        patient=patient,
        relationship=frank,
        recorded_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        name="Frank",
        kind="deceased",
        ring=1,
    )
    mum = Relationship.objects.create(clinic=clinic, patient=patient, name="Mum", kind="parent")
    marcus = Relationship.objects.create(
        clinic=clinic, patient=patient, name="Marcus", kind="partner"
    )
    by_person = Area.objects.create(
        clinic=clinic, course=course, kind="grief", deceased=frank, death_date=date(2024, 11, 2)
    )
    by_parent = Area.objects.create(
        clinic=clinic, course=course, kind="grief", deceased=mum, death_date=date(2023, 5, 1)
    )
    by_name = Area.objects.create(
        clinic=clinic,
        course=course,
        kind="grief",
        deceased_name="Uncle Joe",
        death_date=date(2022, 8, 30),
        mourning_status="Still sets his place at Christmas",
        is_primary=False,
    )
    dispute = Area.objects.create(
        clinic=clinic,
        course=course,
        kind="role_dispute",
        other_party=marcus,
        dispute_stage="renegotiation",
        is_primary=False,
    )
    quiet = Area.objects.create(
        clinic=clinic,
        course=course,
        kind="role_dispute",
        other_party=mum,
        dispute_stage="impasse",
        is_primary=False,
    )
    trail = [
        (datetime(2026, 1, 21, 11, tzinfo=UTC), therapist, "create", [None, "impasse"]),
        (datetime(2026, 2, 4, 11, tzinfo=UTC), colleague, "update", ["impasse", "dissolution"]),
        (datetime(2026, 2, 18, 11, tzinfo=UTC), therapist, "update", ["dissolution", "renegotiation"]),
    ]  # fmt: skip
    for at, actor, action, change in trail:
        with time_machine.travel(at, tick=False):
            AuditEvent.objects.create(
                clinic=clinic,
                actor=actor,
                action=action,
                patient_id=patient.pk,
                object_type="phases.problemarea",
                object_id=dispute.pk,
                changes={"dispute_stage": change, "notes": ["", "x"]},
            )
    with time_machine.travel(datetime(2026, 2, 20, 11, tzinfo=UTC), tick=False):
        AuditEvent.objects.create(  # another change of the area: not a point of the history
            clinic=clinic,
            actor=therapist,
            action="update",
            object_type="phases.problemarea",
            object_id=dispute.pk,
            changes={"notes": ["x", "y"]},
        )

    new = _migrate(_latest())
    Relationship = new.get_model("patients", "Relationship")
    Revision = new.get_model("patients", "RelationshipRevision")
    Area = new.get_model("phases", "ProblemArea")
    Entry = new.get_model("phases", "DisputeStageEntry")

    frank = Relationship.objects.get(pk=frank.pk)
    assert (frank.kind, frank.deceased, frank.died_on) == ("other", True, date(2024, 11, 2))
    assert list(Revision.objects.filter(relationship=frank).values_list("kind", "deceased")) == [
        ("other", True)
    ]
    mum = Relationship.objects.get(pk=mum.pk)
    assert (mum.kind, mum.deceased, mum.died_on) == ("parent", True, date(2023, 5, 1))
    marcus = Relationship.objects.get(pk=marcus.pk)
    assert (marcus.deceased, marcus.died_on) == (False, None)
    # A name typed on the area is now a person of the inventory, marked as died.
    joe = Area.objects.get(pk=by_name.pk).deceased
    assert (joe.name, joe.patient_id, joe.deceased, joe.died_on) == (
        "Uncle Joe",
        patient.pk,
        True,
        date(2022, 8, 30),
    )
    assert Revision.objects.filter(relationship=joe, deceased=True).exists()
    assert Area.objects.get(pk=by_name.pk).mourning_status == "Still sets his place at Christmas"
    assert Area.objects.get(pk=by_person.pk).deceased_id == frank.pk
    assert Area.objects.get(pk=by_parent.pk).deceased_id == mum.pk
    assert Area.objects.count() == 5

    history = list(
        Entry.objects.filter(problem_area_id=dispute.pk)
        .order_by("recorded_on", "at")
        .values_list("recorded_on", "stage", "by_id")
    )
    assert history == [
        (date(2026, 1, 21), "impasse", therapist.pk),
        (date(2026, 2, 4), "dissolution", colleague.pk),
        (date(2026, 2, 18), "renegotiation", therapist.pk),
    ]
    # A dispute the trail says nothing about starts from its stage now.
    start = Entry.objects.get(problem_area_id=quiet.pk)
    assert (start.stage, start.by_id, start.course_id) == ("impasse", therapist.pk, course.pk)
    assert Area.objects.get(pk=dispute.pk).dispute_stage == "renegotiation"
