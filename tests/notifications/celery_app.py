"""The project's Celery app, tuned for the fault proofs through the environment: how often the
sweeper runs, and how soon Redis hands out again a message nobody acknowledged (kombu checks
every 10 s and scans on every 10th check by default — far too slow to watch in a test)."""

import os

from ipt_clinic.celery import app

app.conf.beat_schedule["sweep-stuck-notifications"]["schedule"] = float(
    os.environ.get("NOTIFICATION_SWEEP_INTERVAL_SECONDS", 300)
)
if os.environ.get("FAULT_FAST_RESTORE"):
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

__all__ = ["app"]
