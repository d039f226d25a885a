"""The audit trail's fixed INSERT (``audit_record`` through ``ipt_clinic.rows.insert``) writes
what the ORM writes: the same stored values, hence the same content in the hash chain."""

import json

import pytest
from django.db import connection
from django.test import RequestFactory

from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.audit.services import audit_record

pytestmark = pytest.mark.django_db

CASES = [
    {
        "action": "update",
        "actor_kind": "staff",
        "summary": "Patient details changed – naïve café, 😀",
        "changes": {"first_name": ["Ann", "Anne"], "score": [1.5, 2], "note": [None, "a\nb"]},
        "ip_address": "2001:db8::1",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    },
    {
        "action": "portal_access",
        "actor_kind": "patient",
        "summary": "x" * 300,
        "changes": {},
        "ip_address": "203.0.113.9",
        "user_agent": "",
    },
    {
        "action": "login_failed",
        "actor_kind": "system",
        "summary": "",
        "changes": {"nested": {"b": [1, {"c": True}], "a": False}, "ünï": "ç"},
        "ip_address": None,
        "user_agent": "",
    },
]


def _content(event_id: int) -> list:
    """The event as the chain hashes it, without its id and time."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT audit_event_content(e) FROM audit_auditevent e WHERE e.id = %s",
                [event_id],
            )
        else:
            cursor.execute("SELECT content FROM audit_eventcontent WHERE id = %s", [event_id])
        return json.loads(cursor.fetchone()[0])[2:]


@pytest.mark.parametrize("case", CASES, ids=["update", "portal", "system"])
def test_the_fixed_insert_writes_what_the_orm_writes(case, patient, therapist):
    request = RequestFactory().get(
        "/", REMOTE_ADDR=case["ip_address"] or "", HTTP_USER_AGENT=case["user_agent"]
    )
    audit_record(
        action=case["action"],
        clinic_id=patient.clinic_id,
        actor=therapist if case["actor_kind"] == "staff" else None,
        actor_kind=case["actor_kind"],
        patient_id=patient.pk,
        target=patient,
        summary=case["summary"],
        changes=case["changes"],
        request=request if case["ip_address"] else None,
    )
    fast = AuditEvent.objects.get()
    orm = AuditEvent.objects.create(
        action=case["action"],
        clinic_id=patient.clinic_id,
        actor=therapist if case["actor_kind"] == "staff" else None,
        actor_kind=case["actor_kind"],
        patient_id=patient.pk,
        object_type="patients.patient",
        object_id=patient.pk,
        summary=case["summary"],
        changes=case["changes"],
        ip_address=case["ip_address"],
        user_agent=case["user_agent"],
    )
    orm.refresh_from_db()
    fields = [
        f.attname for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "at", "hash"}
    ]
    assert {name: getattr(fast, name) for name in fields} == {
        name: getattr(orm, name) for name in fields
    }
    assert fast.changes == case["changes"]
    # Stored alike, to the character: the chain hashes the stored text.
    assert _content(fast.pk) == _content(orm.pk)
    assert orm.hash != fast.hash != ""
