"""The send task keeps the worker's database connection and checks its health only after a
pause: a busy worker does not pay a "SELECT 1" round trip per notification."""

import time

import pytest
from django.db import connection

from notifications import tasks

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a worker


def _health_checked_after(monkeypatch, *, since_last_send: float, saw_error=False) -> bool:
    # A worker's connection, kept between tasks with health checks on (as on PostgreSQL; the
    # SQLite settings close it after every task), opened with those settings.
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.ensure_connection()
    if saw_error:
        monkeypatch.setattr(connection, "errors_occurred", True)
    # The previous send's moment on the real monotonic clock. Patching time.monotonic instead
    # moved Django's clock too: a connection opened less than CONN_MAX_AGE after the machine
    # started looked too old and was replaced, so the test failed or passed with the uptime.
    monkeypatch.setattr(tasks, "_last_send_at", time.monotonic() - since_last_send)
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    tasks._drop_old_connections()
    with connection.cursor():  # the next statement is where Django runs its health check
        pass
    return bool(checks)


def test_it_skips_the_health_check_while_the_worker_is_busy(monkeypatch):
    assert not _health_checked_after(monkeypatch, since_last_send=0.01)


def test_it_checks_the_connection_after_a_pause(monkeypatch):
    assert _health_checked_after(monkeypatch, since_last_send=5)


def test_it_checks_a_connection_that_saw_an_error(monkeypatch):
    assert _health_checked_after(monkeypatch, since_last_send=0.01, saw_error=True)
