"""The audit trail's hash chain: every event is chained to the one before it by the database,
whichever way it is inserted, and ``manage.py audit_verify`` names the first broken link."""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import RequestFactory

from ipt_clinic.audit.chain import chain_hash
from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.audit.services import audit_record


def _verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _events(count: int, clinic_id=None) -> list[AuditEvent]:
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8::7", HTTP_USER_AGENT="Firefox")
    for number in range(count):
        audit_record(
            action="update",
            clinic_id=clinic_id,
            summary=f"event {number} – naïve café",
            changes={"first_name": ["Ann", "Anne"], "score": [1.5, number]},
            request=request,
        )
    return list(AuditEvent.objects.order_by("id"))


def _as_superuser(statement: str, params: list) -> None:
    """Change the table as only a superuser could: on PostgreSQL with its triggers skipped
    (``session_replication_role``, for the test's transaction), a plain statement on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.mark.django_db
def test_it_chains_every_event_to_the_one_before(clinic):
    events = _events(3, clinic.pk)
    AuditEvent.objects.create(action="view", clinic=clinic, summary="through the ORM")
    AuditEvent.objects.bulk_create(
        [AuditEvent(action="view", summary=f"bulk {n}") for n in range(3)]
    )
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == 7
    assert all(len(event.hash) == 64 for event in events)
    assert len({event.hash for event in events}) == 7
    # The first event starts the chain from nothing; each later one from its predecessor.
    with connection.cursor() as cursor:
        sql = (
            "SELECT audit_event_content(e) FROM audit_auditevent e WHERE e.id = %s"
            if connection.vendor == "postgresql"
            else "SELECT content FROM audit_eventcontent WHERE id = %s"
        )
        cursor.execute(sql, [events[1].pk])
        content = cursor.fetchone()[0]
    assert events[1].hash == chain_hash(events[0].hash, content)
    assert "event 1 – naïve café" in content
    assert _verify() == (
        f"Audit trail intact: 7 events; the last, #{events[-1].pk}, has hash {events[-1].hash}.\n"
    )


@pytest.mark.django_db
def test_it_ignores_a_hash_the_app_passes():
    AuditEvent.objects.create(action="view", summary="forged", hash="0" * 64)
    event = AuditEvent.objects.get()
    assert event.hash != "0" * 64
    assert "intact: 1 events" in _verify()


@pytest.mark.django_db
def test_it_reports_the_first_altered_event():
    events = _events(5)
    _as_superuser(
        "UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["rewritten", events[2].pk]
    )
    with pytest.raises(CommandError) as refused:
        _verify()
    message = str(refused.value)
    assert message.startswith(f"Audit trail broken at event #{events[2].pk}:")
    assert f"the event before it, #{events[1].pk}" in message
    assert "2 events before it are intact" in message


@pytest.mark.django_db
def test_it_reports_the_event_after_one_removed():
    events = _events(4)
    _as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"broken at event #{events[2].pk}: .* #{events[0].pk}"):
        _verify()


@pytest.mark.django_db
def test_it_reports_an_event_that_skipped_the_trigger():
    events = _events(2)
    # A row put there with its hash left empty, as a superuser with the triggers off would.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_event_chain")
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_kind, action, object_type, summary, changes,"
            " user_agent, hash) VALUES (%s, 'system', 'view', '', 'slipped in', '{}', '', '')",
            [events[0].at],
        )
    with pytest.raises(CommandError, match=r"stored nothing"):
        _verify()


@pytest.mark.django_db
def test_an_empty_trail_is_intact():
    assert _verify() == "Audit trail intact: no events yet.\n"


def _waiting_for_the_chain() -> bool:
    """Whether a connection other than the test's waits for the chain's lock."""
    if connection.vendor != "postgresql":
        return True  # SQLite shows no waits; the pause before the check gives it time
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_valid_chain():
    """A transaction holding the chain while another writer waits, then commits out of the
    other's order; then two threads writing as fast as they can."""
    first_written, failures = threading.Event(), []

    def holder():
        try:
            with transaction.atomic():
                audit_record(action="view", clinic_id=None, summary="holder 1")
                first_written.set()
                for _ in range(100):
                    if _waiting_for_the_chain():
                        break
                    time.sleep(0.05)
                time.sleep(0.2)
                audit_record(action="view", clinic_id=None, summary="holder 2")
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    def waiter():
        try:
            first_written.wait(10)
            audit_record(action="view", clinic_id=None, summary="waiter")
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    summaries = list(AuditEvent.objects.order_by("id").values_list("summary", flat=True))
    # The waiter's row was begun while the holder's transaction was open, and comes after it.
    assert summaries == ["holder 1", "holder 2", "waiter"]

    def burst(name):
        try:
            for number in range(40):
                with transaction.atomic():
                    audit_record(action="view", clinic_id=None, summary=f"{name} {number}")
                    if number % 3 == 0:
                        audit_record(action="view", clinic_id=None, summary=f"{name} {number}+")
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=burst, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert AuditEvent.objects.count() == 3 + 2 * (40 + 14)
    assert "intact: 111 events" in _verify()


@pytest.mark.django_db
def test_the_chain_refuses_a_repeatable_read_transaction_on_postgresql():
    """Under REPEATABLE READ the trigger would read a stale latest event: it refuses instead.
    (SQLite has one writer at a time and no isolation level to choose.)"""
    if connection.vendor != "postgresql":
        return
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
    ) as other:
        other.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with pytest.raises(psycopg.errors.RaiseException, match="READ COMMITTED"):
            other.execute(
                "INSERT INTO audit_auditevent (at, actor_kind, action, object_type, summary, changes,"
                " user_agent, hash) VALUES (now(), 'system', 'view', '', 'stale', '{}', '', '')"
            )
