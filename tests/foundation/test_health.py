"""/healthz and /readyz against real dependencies: a database or broker that is down is a
closed loopback port (or an unopenable file), never a stubbed check."""

import socket
import threading
import time

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test import Client

from ipt_clinic.celery import app as celery_app

from .helpers import free_port


def _readyz(database: dict | None = None, within: float = 10):
    """GET /readyz from a thread, failing if no answer comes ``within`` seconds.

    With ``database``, the thread's default connection uses those settings: Django keeps
    one connection per thread, so the test's own connection (and transaction) is untouched."""
    outcome = {}

    def run():
        if database is not None:
            connections["default"] = load_backend(database["ENGINE"]).DatabaseWrapper(
                database, "default"
            )
        try:
            outcome["response"] = Client().get("/readyz")
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout=within)
    assert not thread.is_alive(), f"/readyz gave no answer within {within} s"
    return outcome["response"], time.monotonic() - started


def _unreachable(settings_dict: dict) -> dict:
    unreachable = dict(settings_dict)
    if settings_dict["ENGINE"].endswith("sqlite3"):
        unreachable["NAME"] = "/nonexistent-directory/ipt_clinic.sqlite3"
    else:
        unreachable.update(HOST="127.0.0.1", PORT=str(free_port()))
    return unreachable


@pytest.mark.django_db
def test_it_answers_healthz_without_touching_dependencies(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_is_ready_with_database_and_broker_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_it_is_not_ready_with_the_database_down():
    response, _ = _readyz(database=_unreachable(connections["default"].settings_dict))
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": False, "broker": True}


@pytest.mark.django_db
def test_it_is_ready_from_a_thread_with_a_reachable_database():
    # The control for the test above: the same threaded request with the real connection
    # settings answers 200, so the 503 comes from the unreachable database alone.
    response, _ = _readyz(database=dict(connections["default"].settings_dict))
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}


@pytest.mark.django_db
def test_it_is_not_ready_with_the_broker_down(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    response, _ = _readyz(within=5)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}


@pytest.fixture
def silent_server():
    """A loopback port that accepts connections and never answers (a hung broker)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@pytest.mark.django_db
def test_it_does_not_hang_on_a_broker_that_never_answers(monkeypatch, silent_server):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{silent_server}/0")
    response, _ = _readyz(within=8)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}
