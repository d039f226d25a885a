"""Planning a course's sessions ahead: the dates of a contracted series (weekly, every two
weeks or monthly, on one weekday and time, with an optional taper at the end), each date's clashes with
the therapist's other sessions and the next free slot that day, and the date one interval
after a session ("book the next one"). Reads only; ``services.session_series_book`` books."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from ipt_clinic.dates import last_booking_day
from phases.maintenance import booster_session_ids
from phases.models import PLANNED_SESSIONS, Frequency, Phase, TreatmentCourse

from .models import CANCELLED_STATUSES, Modality, SessionStatus, TherapySession
from .services import MAX_DURATION

# A free slot suggested for a clashing date ends by this time of the clinic's day.
DAY_ENDS_AT = time(20, 0)
# How the contract's frequency spaces two sessions (twice a week: Monday and Thursday, say).
FREQUENCY_DAYS = {
    Frequency.WEEKLY: 7,
    Frequency.FORTNIGHTLY: 14,
    Frequency.MONTHLY: 28,
}
# A monthly series keeps its weekday: every four weeks (a maintenance contract's sessions).
SERIES_INTERVALS = {"weekly": 7, "fortnightly": 14, "monthly": FREQUENCY_DAYS[Frequency.MONTHLY]}
SERIES_INTERVAL_CHOICES = (
    ("weekly", "Weekly"),
    ("fortnightly", "Every two weeks"),
    ("monthly", "Monthly (every four weeks)"),
)
# The longest series: a maintenance contract (phases.models.PLANNED_SESSIONS).
MAX_SERIES = max(high for _, high in PLANNED_SESSIONS.values())
TAPER_DAYS = 14


def local_start(day: date, at: time, tz) -> datetime | None:
    """``day`` at ``at`` in ``tz``, aware; None for a wall-clock time the clocks skip."""
    start = datetime.combine(day, at, tzinfo=tz)
    try:
        back = start.astimezone(UTC).astimezone(tz)
    except OverflowError:  # the first or last hours of the calendar
        return None
    if back.replace(tzinfo=None) != start.replace(tzinfo=None):
        return None
    return start


def interval_after(start: datetime, frequency: str, tz) -> timedelta:
    """Days from a session at ``start`` to the next one at the course's ``frequency`` (twice
    a week alternates three and four days: Monday, Thursday, Monday...)."""
    if frequency == Frequency.TWICE_WEEKLY:
        return timedelta(days=3 if timezone.localtime(start, tz).weekday() < 3 else 4)
    return timedelta(days=FREQUENCY_DAYS.get(frequency, 7))


def next_start_after(session: TherapySession, frequency: str, tz) -> datetime | None:
    """The same wall-clock time one interval of ``frequency`` after ``session``, clinic time
    (None when the clocks skip that time that day)."""
    local = timezone.localtime(session.scheduled_start, tz)
    try:
        day = local.date() + interval_after(session.scheduled_start, frequency, tz)
    except OverflowError:  # a session stored at the end of the calendar
        return None
    return local_start(day, local.time().replace(second=0, microsecond=0), tz)


def remaining_sessions(
    course: TreatmentCourse, sessions: list[TherapySession], boosters: set[int] | None = None
) -> int:
    """Sessions of the contract neither held nor booked ahead: planned, less the attended
    (the course's kept figure), less the scheduled ones still ahead in ``sessions`` (all
    of the course's). A maintenance course's boosters (``boosters``, their session ids, read
    here when not given) come on top of its contract."""
    now = timezone.now()
    if boosters is None:
        boosters = booster_session_ids(course)
    ahead = sum(
        1
        for s in sessions
        if s.status == SessionStatus.SCHEDULED and s.scheduled_start >= now and s.pk not in boosters
    )
    held = course.sessions_attended - sum(
        1 for s in sessions if s.pk in boosters and s.status == SessionStatus.ATTENDED
    )
    return max(0, course.planned_sessions - held - ahead)


def series_days(
    *, first: date, weekday: int, count: int, interval_days: int, taper_last: int = 0
) -> list[date]:
    """``count`` days from the first ``weekday`` (0 Monday) on or after ``first``, each
    ``interval_days`` after the one before; the last ``taper_last`` every two weeks (the
    termination taper) when the series runs more often."""
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    days = []
    for index in range(count):
        days.append(day)
        tapering = index + 1 >= count - taper_last and interval_days < TAPER_DAYS
        day += timedelta(days=TAPER_DAYS if tapering else interval_days)
    return days


@dataclass
class SeriesRow:
    """One date of the series as the preview shows it."""

    index: int
    day: date
    start: datetime | None  # None: the clocks skip that time that day
    problems: list[str] = field(default_factory=list)  # not bookable at this time: why
    clashes: list[str] = field(default_factory=list)  # the therapist's other sessions
    free_slot: time | None = None  # the next free start that day, if any
    choice: str = ""  # book, skip or move (forms.SeriesChoice), as posted or proposed
    move_time: str = ""  # hh:mm typed (or proposed) for a move

    @property
    def bookable(self) -> bool:
        return not self.problems and not self.clashes


def _fmt(moment: datetime, tz) -> str:
    return timezone.localtime(moment, tz).strftime("%H:%M")


def series_rows(
    *, course: TreatmentCourse, days: list[date], at: time, duration_minutes: int, tz
) -> list[SeriesRow]:
    """Each day of the series at ``at``, with what stands in its way: a start already past or
    beyond the booking limit, a time the clocks skip, the therapist's other sessions that
    overlap it (and then the next free start that day). One query for the whole series."""
    rows = [
        SeriesRow(index=i, day=day, start=local_start(day, at, tz)) for i, day in enumerate(days)
    ]
    if not rows:
        return rows
    now = timezone.now()
    begin = datetime.combine(days[0], time.min, tzinfo=tz) - timedelta(minutes=MAX_DURATION)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    calendar = list(
        TherapySession.objects.filter(
            clinic_id=course.clinic_id,
            therapist_id=course.therapist_id,
            scheduled_start__gte=begin,
            scheduled_start__lt=end,
        )
        .exclude(status__in=CANCELLED_STATUSES)
        .select_related("course__patient")
        .order_by("scheduled_start", "pk")
    )
    length = timedelta(minutes=duration_minutes)
    last_day = last_booking_day(timezone.localdate(now, tz))
    for row in rows:
        if row.start is None:
            row.problems.append(f"{at:%H:%M} does not exist that day (the clocks change).")
            continue
        if row.start < now:
            row.problems.append("This time has passed.")
        elif row.day > last_day:
            row.problems.append("More than two years ahead.")
        day_begin = datetime.combine(row.day, time.min, tzinfo=tz)
        day_finish = datetime.combine(row.day + timedelta(days=1), time.min, tzinfo=tz)
        day_sessions = [
            s
            for s in calendar
            if s.scheduled_start < day_finish
            and s.scheduled_start + timedelta(minutes=s.duration_minutes) > day_begin
        ]
        for other in day_sessions:
            other_end = other.scheduled_start + timedelta(minutes=other.duration_minutes)
            if other.scheduled_start < row.start + length and row.start < other_end:
                row.clashes.append(
                    f"{course.therapist.display_name} sees {other.course.patient.full_name} "
                    f"from {_fmt(other.scheduled_start, tz)} to {_fmt(other_end, tz)}."
                )
        if row.clashes and not row.problems:
            row.free_slot = _free_slot(row, day_sessions, length, tz, now)
    return rows


def _free_slot(row: SeriesRow, day_sessions, length: timedelta, tz, now) -> time | None:
    """The first start from the wanted time on that leaves ``length`` free before the next
    session and ends by ``DAY_ENDS_AT``: the wanted time itself or the end of a session."""
    day_end = local_start(row.day, DAY_ENDS_AT, tz)
    busy = sorted(
        (s.scheduled_start, s.scheduled_start + timedelta(minutes=s.duration_minutes))
        for s in day_sessions
    )
    candidates = sorted({row.start, *(end for _, end in busy if end > row.start)})
    for start in candidates:
        if start < now or day_end is None or start + length > day_end:
            continue
        if all(not (b < start + length and start < e) for b, e in busy):
            return timezone.localtime(start, tz).time().replace(second=0, microsecond=0)
    return None


class SeriesChoice:
    """What the preview asks of each date: ``book`` it as planned, ``skip`` it, or ``move`` it
    to the time typed on its row (the next free slot that day, offered)."""

    BOOK, SKIP, MOVE = "book", "skip", "move"

    @staticmethod
    def read(posted, index: int) -> tuple[str, str]:
        return (posted.get(f"row_{index}") or "", (posted.get(f"row_{index}_time") or "").strip())


def series_defaults(course: TreatmentCourse, sessions: list[TherapySession], tz) -> dict:
    """The series the page opens with: the remaining sessions of the contract, on the weekday
    and at the time of the course's latest session, one interval after it (from tomorrow at
    the earliest), weekly, every two weeks for a fortnightly contract or in an acute course's
    termination, monthly for a monthly contract (a maintenance course's, ending included). A
    maintenance course with no session yet goes on from the last of the course before it."""
    tomorrow = timezone.localdate(timezone=tz) + timedelta(days=1)
    latest = next((s for s in reversed(sessions) if s.status not in CANCELLED_STATUSES), None)
    if latest is None and course.maintenance_of_id is not None:
        # A new maintenance course goes on from the last session of the course before it.
        latest = (
            TherapySession.objects.filter(
                clinic_id=course.clinic_id, course_id=course.maintenance_of_id
            )
            .exclude(status__in=CANCELLED_STATUSES)
            .order_by("-scheduled_start", "-pk")
            .first()
        )
    first, at = tomorrow, time(10, 0)
    duration, modality = course.session_minutes, Modality.IN_PERSON
    weekday = tomorrow.weekday()
    monthly = course.frequency == Frequency.MONTHLY
    fortnightly = not monthly and (
        course.frequency == Frequency.FORTNIGHTLY or course.phase == Phase.TERMINATION
    )
    if latest is not None:
        local = timezone.localtime(latest.scheduled_start, tz)
        at, weekday = local.time().replace(second=0, microsecond=0), local.weekday()
        duration, modality = latest.duration_minutes, latest.modality
        interval = (
            timedelta(days=TAPER_DAYS)
            if fortnightly
            else interval_after(latest.scheduled_start, course.frequency, tz)
        )
        try:
            first = max(tomorrow, local.date() + interval)
        except OverflowError:  # a session stored at the end of the calendar
            first = tomorrow
        if first > last_booking_day(tomorrow):
            first = tomorrow
    return {
        "first_day": first.isoformat(),
        "weekday": str(weekday),
        "time": f"{at:%H:%M}",
        "interval": "monthly" if monthly else "fortnightly" if fortnightly else "weekly",
        "count": str(max(1, remaining_sessions(course, sessions))),
        "taper_last": "0",
        "duration_minutes": str(duration),
        "modality": modality,
    }


def planned_rows(course: TreatmentCourse, values: dict, tz) -> list[SeriesRow]:
    """The rows of the series ``values`` (a valid ``forms.SeriesForm``'s) describe."""
    days = series_days(
        first=values["first_day"],
        weekday=values["weekday"],
        count=values["count"],
        interval_days=SERIES_INTERVALS[values["interval"]],
        taper_last=values["taper_last"],
    )
    return series_rows(
        course=course,
        days=days,
        at=values["time"],
        duration_minutes=values["duration_minutes"],
        tz=tz,
    )


def read_choices(rows: list[SeriesRow], posted) -> None:
    """Each row's choice as posted, else what the preview proposes: book a free date, move a
    clash to the next free slot that day, skip a date with no free slot."""
    for row in rows:
        choice, typed = SeriesChoice.read(posted, row.index)
        if not choice:
            if row.bookable:
                choice = SeriesChoice.BOOK
            elif row.free_slot is not None:
                choice, typed = SeriesChoice.MOVE, f"{row.free_slot:%H:%M}"
            else:
                choice = SeriesChoice.SKIP
        row.choice, row.move_time = choice, typed


def chosen_starts(rows: list[SeriesRow], tz) -> tuple[list, list[str]]:
    """The starts to book from each row's choice, and one sentence per row whose choice
    cannot be followed."""
    starts, errors = [], []
    for row in rows:
        day = f"{row.day:%a} {row.day.day} {row.day:%b %Y}"
        if row.choice == SeriesChoice.SKIP:
            continue
        if row.choice == SeriesChoice.BOOK and row.bookable:
            starts.append(row.start)
            continue
        if row.choice != SeriesChoice.MOVE:
            errors.append(f"{day}: {' '.join(row.problems + row.clashes)} Skip it or move it.")
            continue
        try:
            at = time.fromisoformat(row.move_time)
        except ValueError:
            errors.append(f"{day}: type the time to move it to (hh:mm), or skip it.")
            continue
        start = local_start(row.day, at.replace(second=0, microsecond=0), tz)
        if start is None:
            errors.append(f"{day}: {at:%H:%M} does not exist that day (the clocks change).")
            continue
        starts.append(start)
    return starts, errors
