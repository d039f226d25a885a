"""The send task keeps the worker's database connection and lets Django look after it
(``close_old_connections()``): before every send, however soon after the last one, the
connection is checked (CONN_HEALTH_CHECKS), so one that died meanwhile is replaced before the
claim rather than failing it."""

import pytest
from django.db import connection

from notifications.tasks import send_notification

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a worker


@pytest.fixture
def kept_connection(monkeypatch):
    """A worker's connection, kept between tasks with health checks on (as on PostgreSQL; the
    SQLite settings close it after every task), opened with those settings; the list records
    each health check."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.ensure_connection()

    class Checks(list):
        dead = False

    checks = Checks()
    usable = connection.is_usable
    monkeypatch.setattr(
        connection, "is_usable", lambda: checks.append(1) or (not checks.dead and usable())
    )
    return checks


def test_it_checks_the_connection_before_every_send_even_in_a_burst(kept_connection):
    # No such row: each send claims nothing, one statement after the check.
    assert [send_notification(0) for _ in range(3)] == ["skipped"] * 3
    assert kept_connection == [1, 1, 1]


def test_it_replaces_a_connection_that_died_between_two_sends(kept_connection):
    assert send_notification(0) == "skipped"
    opened = connection.connection
    kept_connection.dead = True
    assert send_notification(0) == "skipped"
    assert connection.connection is not opened
