"""/healthz and /readyz against real dependencies: a database or broker that is down is a
closed loopback port (or an unopenable file), never a stubbed check."""

import socket
import threading
import time
from datetime import UTC, datetime

import pytest
import redis
import time_machine
from django.db import connections
from django.db.utils import load_backend
from django.test import Client

from ipt_clinic import health
from ipt_clinic.celery import app as celery_app

from .helpers import free_port


@pytest.fixture(autouse=True)
def _fresh_probe():
    # /readyz reuses its answer for a moment: each test checks its own dependencies, and
    # leaves no answer (or count) behind for the next test of the process.
    health.readiness.forget()
    health.readyz_throttle.forget()
    # Several tests point the app at another broker (a Redis of their own, a dead port): the
    # app's connection pool, made at its first use, must not keep that broker for the tests
    # after (a send would retry a dead port forever). app.close() drops the pool.
    broker_url = celery_app.conf.broker_url
    celery_app.close()
    yield
    health.readiness.forget()
    health.readyz_throttle.forget()
    celery_app.conf.broker_url = broker_url
    celery_app.close()


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
def test_it_names_no_part_of_the_set_up(client, settings):
    body = client.get("/readyz").content.decode()
    assert body == '{"status": "ready", "checks": {"database": true, "broker": true}}'
    scheme = settings.CELERY_BROKER_URL.split(":", 1)[0]  # redis, or filesystem without it
    assert scheme not in body


@pytest.mark.django_db
def test_it_answers_a_burst_from_one_check(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # the database check's SELECT 1, once
        for _ in range(20):
            assert client.get("/readyz").status_code == 200
    # Once the answer is older than the interval, the next request checks again.
    time.sleep(health.READY_CACHE_SECONDS + 0.1)
    with django_assert_num_queries(1):
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_it_opens_one_broker_connection_for_a_burst(client, monkeypatch, redis_url):
    monkeypatch.setattr(celery_app.conf, "broker_url", redis_url)
    broker = redis.Redis.from_url(redis_url)
    before = broker.info("stats")["total_connections_received"]
    for _ in range(20):
        assert client.get("/readyz").json()["checks"] == {"database": True, "broker": True}
    assert broker.info("stats")["total_connections_received"] - before == 1
    broker.close()


@pytest.mark.django_db
def test_it_throttles_one_address_and_not_the_others():
    prober, other = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="203.0.113.10")
    # 10:00:20, so the minute does not end during the burst.
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, 20, tzinfo=UTC), tick=False):
        for _ in range(health.READYZ_LIMIT_PER_MINUTE):
            assert prober.get("/readyz").status_code == 200
        refused = prober.get("/readyz")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "40"
        assert "checks" not in refused.json()
        assert other.get("/readyz").status_code == 200
    with time_machine.travel(datetime(2026, 3, 2, 10, 1, 0, tzinfo=UTC), tick=False):
        assert prober.get("/readyz").status_code == 200  # a new minute


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
