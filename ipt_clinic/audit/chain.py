"""Checking the audit trail's hash chain (see ``AuditEvent``; the database writes it).

Each event's ``hash`` is the SHA-256 (hex) of the previous event's hash (empty for the first)
followed by the event's content as the database renders it. The check reads the events in id
order, a page at a time, and recomputes each hash from the stored hash of the event before it:
an altered event is the first link that fails, and an event removed or slipped in breaks the
link of the event after it.
"""

import hashlib
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

PAGE = 5000


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    previous_id: int | None
    stored: str
    expected: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str
    head_id: int | None
    broken: BrokenLink | None


def chain_hash(previous: str, content: str) -> str:
    return hashlib.sha256((previous + content).encode()).hexdigest()


def _page_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return (
            "SELECT e.id, e.hash, audit_event_content(e) FROM audit_auditevent e"
            " WHERE e.id > %s ORDER BY e.id LIMIT %s"
        )
    return "SELECT id, hash, content FROM audit_eventcontent WHERE id > %s ORDER BY id LIMIT %s"


def audit_chain_check(*, using: str = DEFAULT_DB_ALIAS) -> ChainReport:
    """Walk the whole chain; stop at the first broken link."""
    connection = connections[using]
    sql = _page_sql(connection.vendor)
    previous, previous_id, count = "", None, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [previous_id or 0, PAGE])
            rows = cursor.fetchall()
            for event_id, stored, content in rows:
                expected = chain_hash(previous, content)
                if stored != expected:
                    broken = BrokenLink(event_id, previous_id, stored, expected)
                    return ChainReport(count, previous, previous_id, broken)
                previous, previous_id, count = stored, event_id, count + 1
            if len(rows) < PAGE:
                return ChainReport(count, previous, previous_id, None)
