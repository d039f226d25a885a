"""The outbox moved from the sessions app to notifications without losing a row: a database
holding notices (and the jobs' heartbeats) under the old app is migrated forward, and every row
is there under the new one, with its key, status and links."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.factories import ClinicFactory, PatientFactory, UserFactory

BEFORE = [("therapy", "0008_notification_once"), ("notifications", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def back_before_the_move():
    """The database as it stood before the move (the outbox in the sessions app), and back to
    the latest state afterwards, whatever the test did."""
    yield lambda: _migrate(BEFORE)
    _migrate(_latest())


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_row_when_the_outbox_moves_app(back_before_the_move):
    # The clinic, its therapist and a patient as the app makes them today (those tables are
    # not part of the move); the outbox rows as the sessions app wrote them.
    clinic = ClinicFactory(name="Moving Clinic", slug="moving")
    patient = PatientFactory(
        clinic=clinic, primary_therapist=UserFactory(username="mover", clinic=clinic)
    )
    old = back_before_the_move()
    OldNotification = old.get_model("therapy", "Notification")
    OldHeartbeat = old.get_model("therapy", "Heartbeat")
    due = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    for number, status in enumerate(["pending", "sent", "failed", "cancelled"], start=1):
        OldNotification.objects.create(
            clinic_id=clinic.pk,
            patient_id=patient.pk if number != 4 else None,
            kind="session_reminder" if number != 4 else "staff_invite",
            channel="email",
            recipient=f"person{number}@example.org",
            about_type="session" if number != 4 else "staff_user",
            about_id=100 + number,
            due_at=due,
            status=status,
            attempts=number,
            last_error="refused" if status == "failed" else "",
            dedupe_key=f"session:{100 + number}:session_reminder:email:{number}",
        )
    OldHeartbeat.objects.create(name="dispatch", last_run_at=due, detail={"claimed": 3})
    before = sorted(
        OldNotification.objects.values_list(
            "id", "dedupe_key", "status", "attempts", "patient_id", "recipient", "last_error"
        )
    )

    new = _migrate(_latest())
    Notification = new.get_model("notifications", "Notification")
    Heartbeat = new.get_model("notifications", "Heartbeat")
    after = sorted(
        Notification.objects.values_list(
            "id", "dedupe_key", "status", "attempts", "patient_id", "recipient", "last_error"
        )
    )
    assert after == before
    assert Notification._meta.db_table == "notifications_notification"
    assert Heartbeat.objects.get(name="dispatch").detail == {"claimed": 3}
    # The unique key still holds under the new name, and new rows take fresh ids.
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            clinic_id=clinic.pk,
            kind="session_reminder",
            channel="email",
            recipient="x@example.org",
            about_type="session",
            about_id=101,
            due_at=due,
            dedupe_key=before[0][1],
        )
    fresh = Notification.objects.create(
        clinic_id=clinic.pk,
        kind="session_reminder",
        channel="email",
        recipient="x@example.org",
        about_type="session",
        about_id=999,
        due_at=due,
        dedupe_key="session:999:session_reminder:email:1",
    )
    assert fresh.pk > max(row[0] for row in before)
    tables = connection.introspection.table_names()
    assert "therapy_notification" not in tables
    assert "notifications_heartbeat" in tables
