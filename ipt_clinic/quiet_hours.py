"""What makes a clinic's quiet hours (no text message to a patient from ``start`` until
``end``, clinic time) sensible: a window of the night, of at most ``LONGEST`` hours.

A window the other way round (08:00 to 21:00) is the usual slip, and it would hold every
reminder back through the day; one that starts and ends at the same minute says nothing.
Shared by the clinic settings form and the start-up check of the default
(``CLINIC_QUIET_HOURS``), so no Django model here.
"""

from datetime import datetime, time, timedelta

LONGEST = timedelta(hours=14)
# A quiet window is for the night: it holds this minute whatever the clinic's habits.
NIGHT = time(3, 0)


def _length(start: time, end: time) -> timedelta:
    day = datetime(2000, 1, 1)  # noqa: DTZ001 - a length between two clock times, no zone
    length = datetime.combine(day, end) - datetime.combine(day, start)
    return length if length > timedelta(0) else length + timedelta(days=1)


def _holds(start: time, end: time, moment: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_hours_problem(start: time, end: time) -> str | None:
    """What is wrong with quiet hours from ``start`` to ``end``, in a sentence; None if fine."""
    shown = f"from {start:%H:%M} to {end:%H:%M}"
    if start == end:
        return (
            "Quiet hours need an end that differs from their start "
            "(for example from 21:00 to 08:00)."
        )
    if not _holds(start, end, NIGHT):
        return (
            f"Quiet hours are for the night: {shown} leaves the night out. "
            f"Did you mean from {end:%H:%M} to {start:%H:%M}?"
        )
    length = _length(start, end)
    if length > LONGEST:
        hours = length.total_seconds() / 3600
        return (
            f"Quiet hours {shown} last {hours:g} hours: at most {LONGEST.seconds // 3600} "
            "hours, or patients' text messages wait most of the day."
        )
    return None


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """``"21:00-08:00"`` as two times; ValueError naming the expected form otherwise."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as exc:
        raise ValueError(f"expected HH:MM-HH:MM (such as 21:00-08:00), got {text!r}") from exc
    return start, end
