"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.local")

app = Celery("ipt_clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_link_tokens(logger, **kwargs) -> None:
    """A worker sets up its own log handlers (the settings' LOGGING filters are gone there):
    the same filter keeps portal, invitation and reset tokens out of the worker's log."""
    from ipt_clinic.log_redaction import RedactSecrets

    for handler in logger.handlers:
        handler.addFilter(RedactSecrets())


@app.task(name="ipt_clinic.ping")
def ping() -> str:
    """Round-trip check used by the smoke test and /readyz tooling."""
    return "pong"
