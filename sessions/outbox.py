"""The notification outbox: the hooks that clinical changes call, in their own transaction.

Placeholder signatures for the notifications issue; each will write/move/cancel outbox rows.
"""

from .models import Assignment, TherapySession


def on_session_booked(session: TherapySession) -> None:
    """Called inside the booking transaction."""


def on_session_rescheduled(session: TherapySession) -> None:
    """Called inside the rescheduling transaction (scheduled_start already changed)."""


def on_session_cancelled(session: TherapySession) -> None:
    """Called inside the cancelling transaction."""


def on_assignment_set(assignment: Assignment) -> None:
    """Called inside the transaction that sets homework."""


def on_assignment_closed(assignment: Assignment) -> None:
    """Called when homework is marked done / not done / withdrawn (cancels its due reminder)."""
