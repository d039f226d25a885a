"""Telling the clinic dashboard that a therapist's figures may have changed.

The dashboard (``caseload.figures``) keeps each therapist's figures (active courses by phase,
sessions this week, no-shows, unsigned notes, open risk flags, PHQ-9 overdue...) in a row of
their own, so that it reads a page of rows instead of counting the clinic's records on every
request. A service that changes what those figures count calls ``figures_changed`` inside
its transaction with the therapists concerned, and the dashboard works their rows out again
before it next reads them. caseload registers the listener at start-up
(``CaseloadConfig.ready``): patients, phases and sessions sit below it and never import it.

A writer that bypasses the services (a bulk load, a migration) rebuilds the figures itself
(``caseload.figures.figures_rebuild``, ``manage.py caseload_figures --rebuild``).
"""

from collections.abc import Callable, Iterable

_listeners: list[Callable[..., object]] = []


def register_listener(listener: Callable[..., object]) -> None:
    """``listener(*, clinic_id, therapist_ids)``; registering the same function twice keeps
    one."""
    if listener not in _listeners:
        _listeners.append(listener)


def figures_changed(*, clinic_id: int, therapist_ids: Iterable[int | None]) -> None:
    """Call inside the transaction that made the change, after locking the rows it changed:
    the therapists' rows are marked in ascending id order, the order the dashboard locks
    them in."""
    ids = sorted({pk for pk in therapist_ids if pk is not None})
    if not ids:
        return
    for listener in _listeners:
        listener(clinic_id=clinic_id, therapist_ids=ids)
