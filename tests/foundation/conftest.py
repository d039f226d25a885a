"""Fixtures for tests that start real processes."""

import os
import shutil
import subprocess
import tempfile

import pytest
from celery import Celery

from .helpers import free_port, wait_for


@pytest.fixture
def redis_url():
    """A Redis of the test's own: a redis-server on a free loopback port, stopped after.

    Without the redis-server program, the Redis of REDIS_URL is used (database 15)."""
    program = shutil.which("redis-server")
    if program is None:
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.fail("a task round trip needs redis-server on PATH or REDIS_URL")
        yield url.rsplit("/", 1)[0] + "/15"
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [
                program,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            client = Celery(broker=url)
            assert wait_for(lambda: _answers(client), timeout=10), "redis-server did not start"
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _answers(client: Celery) -> bool:
    try:
        with client.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
        return True
    except Exception:  # noqa: BLE001
        return False
