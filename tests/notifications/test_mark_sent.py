"""The "sent" mark, written as one fixed statement for its measured speed
(``notifications.sending._mark_sent``), leaves the row exactly as the ORM's transition
(``_finish``) does, on SQLite and PostgreSQL alike, and only while the attempt is ours."""

from datetime import UTC, datetime

import pytest

from notifications.models import Notification
from notifications.sending import _finish, _mark_sent

from .conftest import claimed

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)


def _attempted(row: Notification) -> Notification:
    """The row while its sender holds attempt 1 (a payload the sent row must not keep)."""
    Notification.objects.filter(pk=row.pk).update(
        attempts=1, attempt_started_at=SENT_AT, payload={"link": "kept until sent"}
    )
    return claimed(row)


def _stored(row: Notification) -> dict:
    return Notification.objects.filter(pk=row.pk).values().get()


def test_it_leaves_the_row_as_the_orm_does(due_reminder):
    row = _attempted(due_reminder)
    orm_way = {"status": "sent", "sent_at": SENT_AT, "recipient": "new@example.org"}
    assert _finish(
        row.pk,
        1,
        **orm_way,
        last_error="",
        lease_until=None,
        attempt_started_at=None,
        payload={},
        updated_at=SENT_AT,
    )
    by_orm = _stored(row)

    _attempted(row)
    Notification.objects.filter(pk=row.pk).update(status="sending", last_error="451 busy")
    assert _mark_sent(row.pk, 1, "new@example.org", SENT_AT)
    by_statement = _stored(row)

    assert by_statement == by_orm
    # Stored as the ORM stores a moment: found again by it.
    assert Notification.objects.filter(pk=row.pk, sent_at=SENT_AT, updated_at=SENT_AT).exists()


def test_it_marks_nothing_when_the_attempt_is_not_ours(due_reminder):
    row = _attempted(due_reminder)
    assert not _mark_sent(row.pk, 2, "new@example.org", SENT_AT)
    Notification.objects.filter(pk=row.pk).update(status="pending")
    assert not _mark_sent(row.pk, 1, "new@example.org", SENT_AT)
    assert _stored(row)["status"] == "pending"
