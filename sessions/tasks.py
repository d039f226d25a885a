"""Celery tasks of the sessions app. Thin: each calls one service."""

from django.db import close_old_connections

from ipt_clinic.celery import app

from . import notices
from .risk import risk_flags_escalate


@app.task(name="sessions.request_maintenance_checkins", ignore_result=True)
def request_maintenance_checkins() -> int:
    """Beat, every hour: this month's PHQ-9 check-in notices of maintenance courses."""
    close_old_connections()
    return notices.maintenance_checkins_request()


@app.task(name="sessions.escalate_risk_flags", ignore_result=True)
def escalate_risk_flags() -> int:
    """Beat, every minute: raise again the risk flags left unacknowledged past their clinic's
    escalation window (idempotent: each flag is claimed by one conditional UPDATE)."""
    close_old_connections()
    return risk_flags_escalate()
