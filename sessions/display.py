"""Dates and labels written as the templates write them, for tables formatted in Python: a
table of dozens of rows through ``|date`` and ``get_FOO_display`` costs several times as much
as these."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from patients.templatetags.course_words import held_words

from .models import CANCELLED_STATUSES, Measure, SessionStatus

_INSTRUMENT_LABELS = dict(Measure._meta.get_field("instrument").flatchoices)


def instrument_label(code: str) -> str:
    """``measure.get_instrument_display()`` for ``code``."""
    return str(_INSTRUMENT_LABELS.get(code, code))


def day_and_time(moment, tz, *, weekday: bool = False) -> str:
    """``moment|date:"j M Y H:i"`` in ``tz`` (``"D j M Y H:i"`` with ``weekday``), the
    names through Django's translations, without the filter's per-call set-up."""
    local = timezone.localtime(moment, tz)
    text = (
        f"{local.day} {MONTHS_3[local.month].title()} {local.year:04d} "
        f"{local.hour:02d}:{local.minute:02d}"
    )
    return f"{WEEKDAYS_ABBR[local.weekday()]} {text}" if weekday else text


def day_month_year(day: date) -> str:
    """``day|date:"j M Y"`` for a date, the month's name through Django's translations."""
    return f"{day.day} {MONTHS_3[day.month].title()} {day.year:04d}"


# --------------------------------------------------------------------------- "session x of N"
#
# The IPT contract counts the sessions held. Every page that numbers a session or a course
# (the therapist's home, the patient and course pages, the session list, the week view, the
# session page, the portal) writes its figure through the two functions below, fed by the
# course's kept figure ``TreatmentCourse.sessions_attended`` and, per session, its rank among
# its course's sessions of the same status (``selectors.with_session_rank``). A no-show or a
# cancellation uses no number.


def session_number(
    *, status: str, start: datetime, rank: int | None, held: int, now: datetime
) -> int | None:
    """The session's number in its course: its place among the attended sessions, or, for a
    scheduled session still ahead, the sessions held so far (``held``) plus its place among
    those ahead (``rank``: 1 for the next one). None for a no-show, a cancellation and a
    scheduled session whose start has passed with no attendance recorded."""
    if not rank:
        return None
    if status == SessionStatus.ATTENDED:
        return rank
    if status == SessionStatus.SCHEDULED and start >= now:
        return held + rank
    return None


def session_count(
    *,
    status: str,
    start: datetime,
    rank: int | None,
    held: int,
    planned: int,
    now: datetime | None = None,
) -> str:
    """The words for one session: "session 3 of 12" for the third attended session, "next:
    session 4 of 12" for the next one booked, "booked: session 5 of 12" for the one after;
    no number otherwise. In the active language: the portal's, the clinic's on staff pages."""
    now = now or timezone.now()
    number = session_number(status=status, start=start, rank=rank, held=held, now=now)
    if status == SessionStatus.ATTENDED:
        return _("session %(number)s of %(planned)s") % {
            "number": number or "?",
            "planned": planned,
        }
    if status == SessionStatus.NO_SHOW:
        return _("did not attend (not counted)")
    if status in CANCELLED_STATUSES:
        return _("cancelled (not counted)")
    if number is None:
        return _("attendance not recorded yet")
    if rank == 1:
        return _("next: session %(number)s of %(planned)s") % {"number": number, "planned": planned}
    return _("booked: session %(number)s of %(planned)s") % {"number": number, "planned": planned}


def count_for_session(session, *, now: datetime | None = None) -> str:
    """``session_count`` for a session read with its course and its ``status_rank``
    (``selectors.with_session_rank`` or ``selectors.number_sessions``)."""
    course = session.course
    return session_count(
        status=session.status,
        start=session.scheduled_start,
        rank=getattr(session, "status_rank", None),
        held=course.sessions_attended,
        planned=course.planned_sessions,
        now=now,
    )


def held_count(*, held: int, planned: int) -> str:
    """The course's own figure (the words live with the patient's page, the lowest that
    shows them: ``patients.templatetags.course_words``)."""
    return held_words(held=held, planned=planned)
