"""Writing the audit trail. Call these from services and views; never update or delete."""

from typing import Any

from django.db import models
from django.http import HttpRequest

from ipt_clinic import rows
from ipt_clinic.client_address import client_address

from .models import AuditAction, AuditEvent


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return client_address(request)


def audit_record(
    *,
    action: str,
    clinic_id: int | None,
    actor=None,
    actor_kind: str = "staff",
    patient_id: int | None = None,
    target: models.Model | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Append one audit event. ``target`` names the object by its model label and id.

    Written by one fixed INSERT (``ipt_clinic.rows.insert``, each value prepared by its field
    as the ORM would; tests/audit/test_fast_insert.py compares the two on both databases):
    nearly every page records its view, and the ORM builds and compiles its INSERT anew on
    each call, which costs about as much again as the statement itself. Events are never
    updated or deleted (the model refuses both; on PostgreSQL a trigger does too, and the
    app's database role may only SELECT and INSERT).

    The database chains the event to the one before it (``AuditEvent.hash``). Inside a
    transaction the event holds the chain until the transaction ends, and every other writer
    of the trail waits for it: in a long transaction, record events last."""
    rows.insert(
        AuditEvent,
        {
            "action": action,
            "clinic_id": clinic_id,
            "actor_id": (
                actor.pk
                if actor is not None and getattr(actor, "is_authenticated", False)
                else None
            ),
            "actor_kind": actor_kind,
            "patient_id": patient_id,
            "object_type": target._meta.label_lower if target is not None else "",
            "object_id": target.pk if target is not None else None,
            "summary": summary[:300],
            "changes": changes or {},
            "ip_address": _client_ip(request),
            "user_agent": (
                request.headers.get("User-Agent", "")[:300] if request is not None else ""
            ),
        },
    )


def diff_fields(
    before: models.Model | dict, after: models.Model, fields: list[str]
) -> dict[str, list]:
    """``{field: [old, new]}`` for the fields whose value changed, as audit ``changes``."""
    changes = {}
    for name in fields:
        old = before.get(name) if isinstance(before, dict) else getattr(before, name)
        new = getattr(after, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


__all__ = ["AuditAction", "audit_record", "diff_fields"]
