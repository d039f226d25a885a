"""The project's Celery app, tuned for the fault proofs through the environment: how soon Redis
hands out again a message nobody acknowledged (kombu checks every 10 s and scans on every 10th
check by default — far too slow to watch in a test). How often the sweeper runs is the
settings' NOTIFICATION_SWEEP_INTERVAL_SECONDS."""

import os

from ipt_clinic.celery import app

if os.environ.get("FAULT_FAST_RESTORE"):
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

__all__ = ["app"]
