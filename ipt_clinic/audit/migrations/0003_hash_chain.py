"""Each audit event carries a hash chained to the previous event's: the SHA-256 of the previous
event's hash followed by this event's content, computed by the database in an insert trigger
(whichever way a row is inserted: the fast path, the ORM, COPY). Events already there are
chained in id order here.

PostgreSQL: ``audit_event_content(event)`` is the content as text; the trigger takes a
transaction-level advisory lock (one writer extends the chain at a time, until its transaction
ends), gives the row the next id under that lock (so the chain runs in id order even when
transactions commit out of order), reads the latest event's hash and sets ``hash``. The
latest event is read afresh after the lock is granted, which only READ COMMITTED guarantees:
the trigger refuses other isolation levels rather than chain to a stale event.

SQLite (one writer at a time): the ``audit_eventcontent`` view gives each event's content,
and an AFTER INSERT trigger sets ``hash`` with ``audit_sha256``, a function the audit app
registers on every connection (``ipt_clinic.audit.apps``).
"""

import hashlib

from django.db import migrations, models

POSTGRESQL_CONTENT = """
CREATE FUNCTION audit_event_content(event audit_auditevent) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT json_build_array(
        event.id,
        to_char(event.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        event.clinic_id, event.actor_id, event.actor_kind, event.action, event.patient_id,
        event.object_type, event.object_id, event.summary, event.changes,
        host(event.ip_address), event.user_agent
    )::text
$$;
"""

POSTGRESQL_TRIGGER = """
CREATE FUNCTION audit_event_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit events are written in READ COMMITTED transactions only';
    END IF;
    PERFORM pg_advisory_xact_lock(TG_RELID::bigint);
    NEW.id := nextval(SEQUENCE::regclass);
    SELECT hash INTO previous FROM audit_auditevent ORDER BY id DESC LIMIT 1;
    NEW.hash := encode(
        sha256(convert_to(coalesce(previous, '') || audit_event_content(NEW), 'UTF8')), 'hex'
    );
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_chain();
"""

# The events already there, in id order. The append-only trigger is set aside for this one
# UPDATE of each row, inside this migration's transaction; the table is locked against
# inserts from the LOCK on, so no event is left out of the chain.
POSTGRESQL_BACKFILL = """
LOCK TABLE audit_auditevent IN SHARE ROW EXCLUSIVE MODE;
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only;
DO $$
DECLARE
    event record;
    previous text := '';
BEGIN
    FOR event IN
        SELECT e.id, audit_event_content(e) AS content FROM audit_auditevent e ORDER BY e.id
    LOOP
        previous := encode(sha256(convert_to(previous || event.content, 'UTF8')), 'hex');
        UPDATE audit_auditevent SET hash = previous WHERE id = event.id;
    END LOOP;
END
$$;
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only;
"""

POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_chain ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_chain();
DROP FUNCTION IF EXISTS audit_event_content(audit_auditevent);
"""

SQLITE_CONTENT = """
CREATE VIEW audit_eventcontent AS
SELECT id, hash, json_array(
    id, at, clinic_id, actor_id, actor_kind, action, patient_id, object_type, object_id,
    summary, changes, ip_address, user_agent
) AS content
FROM audit_auditevent
"""

SQLITE_TRIGGER = """
CREATE TRIGGER audit_event_chain AFTER INSERT ON audit_auditevent
BEGIN
    UPDATE audit_auditevent
    SET hash = audit_sha256(
        coalesce(
            (SELECT previous.hash FROM audit_auditevent previous
             WHERE previous.id < NEW.id ORDER BY previous.id DESC LIMIT 1),
            ''
        ) || (SELECT content FROM audit_eventcontent WHERE id = NEW.id)
    )
    WHERE id = NEW.id;
END
"""


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT quote_literal(pg_get_serial_sequence('audit_auditevent', 'id'))")
            sequence = cursor.fetchone()[0]
        schema_editor.execute(POSTGRESQL_CONTENT, params=None)
        schema_editor.execute(POSTGRESQL_BACKFILL, params=None)
        schema_editor.execute(POSTGRESQL_TRIGGER.replace("SEQUENCE", sequence), params=None)
    elif connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_CONTENT, params=None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, content FROM audit_eventcontent ORDER BY id")
            previous = ""
            for event_id, content in cursor.fetchall():
                previous = hashlib.sha256((previous + content).encode()).hexdigest()
                cursor.execute(
                    "UPDATE audit_auditevent SET hash = %s WHERE id = %s", [previous, event_id]
                )
        schema_editor.execute(SQLITE_TRIGGER, params=None)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD, params=None)
    elif connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_event_chain", params=None)
        schema_editor.execute("DROP VIEW IF EXISTS audit_eventcontent", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(forward, backward),
    ]
