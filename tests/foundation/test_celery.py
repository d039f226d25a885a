"""The Celery app's settings, and a task round trip through a real worker on real Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from ipt_clinic.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_it_serialises_json_only_and_acknowledges_late():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 4
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
