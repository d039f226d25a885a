"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.local")

app = Celery("ipt_clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ipt_clinic.ping")
def ping() -> str:
    """Round-trip check used by the smoke test and /readyz tooling."""
    return "pong"
