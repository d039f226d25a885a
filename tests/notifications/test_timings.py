"""The outbox's timings hold together: a sender's lease outlasts the send task's hard time
limit (so no other worker sends a row a live one is still sending), and start-up refuses
settings that would break that."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from notifications.tasks import send_notification

ROOT = Path(__file__).resolve().parents[2]


def test_it_kills_a_send_before_its_lease_runs_out():
    assert send_notification.time_limit == settings.NOTIFICATION_SEND_TIME_LIMIT
    assert send_notification.soft_time_limit < send_notification.time_limit
    assert send_notification.time_limit < settings.NOTIFICATION_LEASE_SECONDS
    sweep = settings.CELERY_BEAT_SCHEDULE["sweep-stuck-notifications"]["schedule"]
    assert settings.NOTIFICATION_LEASE_SECONDS + sweep < 60  # a dead worker's rows: < 1 min


def test_it_refuses_to_start_with_a_lease_no_longer_than_the_send_time_limit():
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
        "NOTIFICATION_LEASE_SECONDS": "30",
        "NOTIFICATION_SEND_TIME_LIMIT": "30",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "NOTIFICATION_LEASE_SECONDS must be longer than NOTIFICATION_SEND_TIME_LIMIT" in (
        result.stderr
    )
