"""Celery tasks of the sessions app. Thin: each calls one service."""

from celery import shared_task
from django.db import close_old_connections

from .risk import risk_flags_escalate


@shared_task(name="sessions.escalate_risk_flags", ignore_result=True)
def escalate_risk_flags() -> int:
    """Beat, every minute: raise again the risk flags left unacknowledged past their clinic's
    escalation window (idempotent: each flag is claimed by one conditional UPDATE)."""
    close_old_connections()
    return risk_flags_escalate()
