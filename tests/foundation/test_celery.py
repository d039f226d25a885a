"""The Celery app's settings, and a task round trip through a real worker on real Redis."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from celery import Celery

from ipt_clinic.celery import app

from .helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_it_serialises_json_only_and_acknowledges_late():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.django_db  # Celery's Django fixup runs the system checks on import
def test_it_schedules_only_tasks_the_worker_knows():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule, "the beat schedule is empty"
    for entry in schedule.values():
        assert entry["task"] in app.tasks, f"beat schedules an unknown task {entry['task']}"
        assert entry["schedule"] > 0
    assert app.tasks["ipt_clinic.ping"].run() == "pong"


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


@pytest.mark.slow
def test_it_runs_a_task_through_a_real_worker_on_redis(redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.test",
        "REDIS_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ipt_clinic",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "--hostname",
            f"roundtrip-{os.getpid()}@localhost",
        ],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Celery("ipt_clinic", broker=redis_url, backend=redis_url)
    client.conf.update(task_serializer="json", accept_content=["json"])
    try:
        result = client.send_task("ipt_clinic.ping")
        assert result.get(timeout=30) == "pong"
        assert result.successful()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    log = (tmp_path / "worker.log").read_text()
    assert "ipt_clinic.ping" in log and "succeeded" in log, log
