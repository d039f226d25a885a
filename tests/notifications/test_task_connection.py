"""The send task keeps the worker's database connection and checks its health only after a
pause: a busy worker does not pay a "SELECT 1" round trip per notification."""

import pytest
from django.db import connection

from sessions import tasks

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a worker


def _health_checked_after(monkeypatch, *, since_last_send: float) -> bool:
    connection.ensure_connection()
    monkeypatch.setattr(tasks.time, "monotonic", lambda: 1000.0)
    monkeypatch.setattr(tasks, "_last_send_at", 1000.0 - since_last_send)
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    tasks._drop_old_connections()
    with connection.cursor():  # the next statement is where Django runs its health check
        pass
    return bool(checks)


def test_it_skips_the_health_check_while_the_worker_is_busy(monkeypatch):
    assert not _health_checked_after(monkeypatch, since_last_send=0.01)


def test_it_checks_the_connection_after_a_pause(monkeypatch):
    assert _health_checked_after(monkeypatch, since_last_send=5)


def test_it_checks_a_connection_that_saw_an_error(monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection, "errors_occurred", True)
    assert _health_checked_after(monkeypatch, since_last_send=0.01)
