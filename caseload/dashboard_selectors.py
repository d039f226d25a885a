"""Reads for the clinic admin's caseload review.

Every function takes the admin's clinic id and filters by it before anything else. The
dashboard is a fixed handful of grouped aggregate queries, so its query count does not grow
with the number of therapists or patients. Each course metric is defined once, as a
condition on a course (``metric_condition``): the dashboard counts it and the drill-down
lists the courses that meet it. Session, note and risk figures are counted on their own
tables with the same bounds their drill-down conditions use.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ipt_clinic.accounts.models import Role, User
from phases.models import CourseStatus, Phase, ProblemArea, TreatmentCourse
from sessions.measure_schedule import (
    PHQ9_MAX_AGE_DAYS,
    PHQ9_OVERDUE_RULE,
    phq9_overdue_condition,
)
from sessions.models import (
    CANCELLED_STATUSES,
    AttendanceWeek,
    Measure,
    SessionNote,
    SessionStatus,
    TherapySession,
)
from sessions.selectors import week_bounds, week_start_for

NO_SESSION_DAYS = 14
# The no-show rate's window: this week and the twelve before it (whole clinic weeks, so that
# it adds up the therapists' AttendanceWeek rows rather than counting their sessions).
NO_SHOW_WINDOW_WEEKS = 13
UNSIGNED_NOTE_HOURS = 48

ACTIVE_PHASES = [Phase.INITIAL, Phase.SOCIAL, Phase.PROBLEM_SOLVING, Phase.TERMINATION]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    help: str
    # "course": counted over active courses by course therapist; "session"/"note"/"risk":
    # counted over sessions, notes or measures by the therapist they belong to.
    source: str
    # The table's column heading, short enough for the table to fit a 1366-px screen.
    short: str = ""

    @property
    def heading(self) -> str:
        return self.short or self.label


METRICS: list[Metric] = [
    Metric("active", "Active courses", "Courses with status active.", "course", "Active"),
    *[
        Metric(
            f"phase_{phase.value}",
            phase.label,
            f"Active courses in {phase.label}.",
            "course",
            # "Initial", "Social", "Problem-solving", "Termination"
            phase.label.split()[0],
        )
        for phase in ACTIVE_PHASES
    ],
    Metric(
        "sessions_week",
        "Sessions this week",
        "Sessions booked from Monday to Sunday of this week (clinic time), not cancelled.",
        "session",
        "This week",
    ),
    Metric(
        "no_show_rate",
        f"No-show rate ({NO_SHOW_WINDOW_WEEKS} wk)",
        f"Did-not-attend as a share of attended plus did-not-attend sessions this week and the "
        f"{NO_SHOW_WINDOW_WEEKS - 1} weeks before it, from Monday, clinic time (cancellations "
        f"left out). The list shows patients with a no-show in that time.",
        "session",
        f"No-shows ({NO_SHOW_WINDOW_WEEKS} wk)",
    ),
    Metric(
        "unsigned_notes",
        f"Unsigned notes > {UNSIGNED_NOTE_HOURS} h",
        f"Session notes not yet signed whose session was more than {UNSIGNED_NOTE_HOURS} hours ago.",
        "note",
        f"Unsigned > {UNSIGNED_NOTE_HOURS} h",
    ),
    Metric(
        "no_session_14",
        f"No session for {NO_SESSION_DAYS} d",
        f"Active courses at least {NO_SESSION_DAYS} days old with no attended session in the "
        f"last {NO_SESSION_DAYS} days.",
        "course",
        f"No session {NO_SESSION_DAYS} d",
    ),
    Metric(
        "past_planned",
        "Past planned sessions",
        "Active courses whose attended sessions have reached the planned number.",
        "course",
        "Past planned",
    ),
    Metric(
        "risk_open",
        "Open risk flags",
        "Patients with a PHQ-9 item-9 risk flag that no clinician has responded to yet.",
        "risk",
        "Open risk",
    ),
    Metric("phq9_overdue", "PHQ-9 overdue", PHQ9_OVERDUE_RULE, "course"),
]
METRICS_BY_KEY = {metric.key: metric for metric in METRICS}
# The figures that matter most lead the dashboard, and its table's columns.
LEAD_KEYS = ["risk_open", "unsigned_notes", "phq9_overdue"]
TABLE_METRICS = [METRICS_BY_KEY[key] for key in LEAD_KEYS] + [
    metric for metric in METRICS if metric.key not in LEAD_KEYS
]


@dataclass
class Window:
    """The moments the metrics are measured against, fixed once per request."""

    now: datetime
    week_start: datetime
    week_end: datetime
    # Midnight starting the Monday NO_SHOW_WINDOW_WEEKS - 1 weeks before this week's.
    no_show_since: datetime
    today: date

    @classmethod
    def for_clinic(cls, tz: ZoneInfo, now: datetime | None = None) -> "Window":
        now = now or timezone.now()
        local_today = now.astimezone(tz).date()
        monday = week_start_for(local_today)
        week_start, week_end = week_bounds(monday, tz)
        no_show_since, _ = week_bounds(monday - timedelta(weeks=NO_SHOW_WINDOW_WEEKS - 1), tz)
        return cls(
            now=now,
            week_start=week_start,
            week_end=week_end,
            no_show_since=no_show_since,
            today=local_today,
        )


def metric_condition(key: str, window: Window, therapist_id: int | None = None) -> Q:
    """The condition a course meets to be counted under ``key``: for course metrics over the
    course's own columns, its attendance figures included (``sessions_attended``,
    ``last_attended_at``, ``previous_attended_at``, kept by the sessions layer), for session,
    note and risk metrics through an ``Exists`` on the rows behind the number (restricted to
    ``therapist_id``'s sessions when given)."""
    now = window.now
    active = Q(status=CourseStatus.ACTIVE)
    if key == "active":
        return active
    if key.startswith("phase_"):
        return active & Q(phase=key.removeprefix("phase_"))
    if key == "no_session_14":
        old_enough = Q(start_date__lte=window.today - timedelta(days=NO_SESSION_DAYS))
        not_seen = Q(last_attended_at__isnull=True) | Q(
            last_attended_at__lt=now - timedelta(days=NO_SESSION_DAYS)
        )
        return active & old_enough & not_seen
    if key == "past_planned":
        return active & Q(sessions_attended__gte=F("planned_sessions"))
    if key == "phq9_overdue":
        # The one rule, shared with the portal's "due before your next session".
        return active & phq9_overdue_condition(now=now, today=window.today)

    session_filter = Q(course=OuterRef("pk"), clinic_id=OuterRef("clinic_id"))
    if therapist_id is not None:
        session_filter &= Q(therapist_id=therapist_id)
    if key == "sessions_week":
        sessions = TherapySession.objects.filter(
            session_filter,
            scheduled_start__gte=window.week_start,
            scheduled_start__lt=window.week_end,
        ).exclude(status__in=CANCELLED_STATUSES)
        return Q(Exists(sessions))
    if key == "no_show_rate":
        sessions = TherapySession.objects.filter(
            session_filter,
            status=SessionStatus.NO_SHOW,
            scheduled_start__gte=window.no_show_since,
            scheduled_start__lte=now,
        )
        return Q(Exists(sessions))
    if key == "unsigned_notes":
        note_filter = Q(
            clinic_id=OuterRef("clinic_id"),
            session__course=OuterRef("pk"),
            signed_at__isnull=True,
            session__scheduled_start__lt=now - timedelta(hours=UNSIGNED_NOTE_HOURS),
        )
        if therapist_id is not None:
            note_filter &= _written_by(therapist_id)
        return Q(Exists(SessionNote.objects.filter(note_filter)))
    if key == "risk_open":
        return Q(
            Exists(
                _open_risk_measures().filter(clinic_id=OuterRef("clinic_id"), course=OuterRef("pk"))
            )
        )
    raise KeyError(key)


def _written_by(therapist_id: int) -> Q:
    """The notes ``therapist_id`` is to write and sign: those of their sessions, except the
    ones handed to someone else when the course moved (``SessionNote.signer``), and those
    handed to them."""
    return Q(signer_id=therapist_id) | Q(signer__isnull=True, session__therapist_id=therapist_id)


# When a risk flag was raised: when its questionnaire entered the record.
RISK_RAISED_AT = "created_at"


def age_text(age: timedelta) -> str:
    """A flag's age as the dashboard writes it: "2 d 3 h", "5 h 20 min", "12 min"."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _open_risk_measures() -> QuerySet[Measure]:
    # Superseded measures included: answers the patient gave and then corrected were still
    # given, and a flag they raised stays open until a clinician responds to it.
    return Measure.objects.filter(risk_flag=True, risk_responded_at__isnull=True)


# --- the dashboard ---------------------------------------------------------------------------


# The figures a row counts (the no-show rate is worked out from two of them).
COUNTED_KEYS = [m.key for m in METRICS if m.key != "no_show_rate"]
# A figure that changes with time alone changes one microsecond after the moment its
# condition names (``last_attended_at < now - 14 days`` first holds just after it).
_JUST_AFTER = timedelta(microseconds=1)


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTED_KEYS, 0)


@dataclass
class TherapistRow:
    therapist_id: int | None
    name: str
    deactivated: bool = False
    # Every figure is there from the start: a therapist with nothing this week shows 0.
    counts: dict[str, int] = field(default_factory=_zero_counts)
    attended_recent: int = 0  # in the no-show rate's window
    no_show_recent: int = 0
    # A therapist of the clinic (listed even with nothing to count); False for someone else
    # the clinic's records still name (listed only while they count something).
    on_staff: bool = True
    # When the oldest of the open risk flags counted here was raised.
    risk_oldest_at: datetime | None = None
    # The first moment after which a figure of this row changes with time alone.
    valid_until: datetime | None = None

    @property
    def no_show_rate(self) -> float | None:
        seen = self.attended_recent + self.no_show_recent
        return None if seen == 0 else self.no_show_recent / seen

    @property
    def listed(self) -> bool:
        return (
            self.on_staff
            or any(self.counts.values())
            or bool(self.attended_recent + self.no_show_recent)
        )

    def value(self, key: str):
        if key == "no_show_rate":
            return self.no_show_rate
        if key == "therapist":
            return self.name.lower()
        return self.counts.get(key, 0)


@dataclass
class Dashboard:
    window: Window
    rows: list[TherapistRow]
    totals: TherapistRow
    phase_counts: list[tuple[str, str, int]]


COURSE_METRIC_KEYS = [m.key for m in METRICS if m.source == "course"]


def phase_counts_of(totals: TherapistRow) -> list[tuple[str, str, int]]:
    return [
        (phase.value, phase.label, totals.counts.get(f"phase_{phase.value}", 0))
        for phase in ACTIVE_PHASES
    ]


def dashboard_for_clinic(
    clinic_id: int,
    tz: ZoneInfo,
    now: datetime | None = None,
    therapist_ids: list[int] | None = None,
) -> Dashboard:
    """Per-therapist figures and their totals, worked out from the clinic's records in six
    grouped queries, whatever the size: for every therapist of the clinic and everyone else
    its records count something for, or only for ``therapist_ids`` (whoever they are; the
    totals are then theirs). ``caseload.figures`` keeps the rows; this is how it works them
    out, and the plain way its test compares them with."""
    window = Window.for_clinic(tz, now)
    now = window.now
    rows: dict[int, TherapistRow] = {}

    staff = User.objects.filter(clinic_id=clinic_id, role=Role.THERAPIST)
    if therapist_ids is not None:
        staff = User.objects.filter(pk__in=therapist_ids)
    staff = staff.order_by("last_name", "first_name", "pk").values_list(
        "pk",
        "first_name",
        "last_name",
        "username",
        "is_active",
        "deactivated_at",
        "clinic_id",
        "role",
    )
    for pk, first_name, last_name, username, is_active, deactivated_at, clinic, role in staff:
        rows[pk] = TherapistRow(
            therapist_id=pk,
            name=f"{first_name} {last_name}".strip() or username,
            deactivated=not is_active or deactivated_at is not None,
            on_staff=clinic == clinic_id and role == Role.THERAPIST,
        )

    def row_for(therapist_id: int) -> TherapistRow:
        # A course may sit with someone who is not (or no longer) a therapist: still counted.
        if therapist_id not in rows:
            rows[therapist_id] = TherapistRow(therapist_id=therapist_id, name="", on_staff=False)
        return rows[therapist_id]

    def soon(row: TherapistRow, moment: datetime | None) -> None:
        if moment is not None and (row.valid_until is None or moment < row.valid_until):
            row.valid_until = moment

    def only(path: str) -> Q:
        return Q() if therapist_ids is None else Q(**{f"{path}__in": therapist_ids})

    # The course figures, and when each would change with time alone: a PHQ-9 or an attended
    # session turning 14 days old, a course reaching 14 days (at midnight, clinic time).
    recent = now - timedelta(days=PHQ9_MAX_AGE_DAYS)
    per_course = (
        TreatmentCourse.objects.filter(only("therapist_id"), clinic_id=clinic_id)
        .filter(status=CourseStatus.ACTIVE)
        .order_by()
        .values_list("therapist_id")
        .annotate(
            **{
                key: Count("pk", filter=metric_condition(key, window)) for key in COURSE_METRIC_KEYS
            },
            next_phq9=Min("latest_phq9_at", filter=Q(latest_phq9_at__gte=recent)),
            next_seen=Min(
                "last_attended_at",
                filter=Q(last_attended_at__gte=now - timedelta(days=NO_SESSION_DAYS)),
            ),
            next_start=Min(
                "start_date",
                filter=Q(start_date__gt=window.today - timedelta(days=NO_SESSION_DAYS)),
            ),
        )
    )
    for therapist_id, *values in per_course:
        *counts, next_phq9, next_seen, next_start = values
        row = row_for(therapist_id)
        row.counts.update(zip(COURSE_METRIC_KEYS, counts, strict=True))
        soon(row, _after(next_phq9, timedelta(days=PHQ9_MAX_AGE_DAYS)))
        soon(row, _after(next_seen, timedelta(days=NO_SESSION_DAYS)))
        if next_start is not None and next_start <= date.max - timedelta(days=NO_SESSION_DAYS):
            # Both rules name the same age (14 days): the course's start reaches it at the
            # midnight that begins that day, clinic time.
            soon(row, week_bounds(next_start + timedelta(days=NO_SESSION_DAYS), tz)[0])

    per_session = (
        TherapySession.objects.filter(
            only("therapist_id"),
            # Cancelled sessions count nowhere here; naming the others lets the
            # (clinic, status, scheduled_start, therapist) index bound the scan to this week,
            # and rows are counted by scheduled_start (never null) rather than by key, so the
            # scan reads that index alone.
            clinic_id=clinic_id,
            status__in=[SessionStatus.ATTENDED, SessionStatus.NO_SHOW, SessionStatus.SCHEDULED],
            scheduled_start__gte=window.week_start,
            scheduled_start__lt=window.week_end,
        )
        .order_by()
        .values_list("therapist_id")
        .annotate(sessions_week=Count("scheduled_start"))
    )
    for therapist_id, sessions_week in per_session:
        row_for(therapist_id).counts["sessions_week"] = sessions_week

    # Attendance in the no-show window from the therapists' weeks (sessions.attendance keeps
    # them): about 13 rows a therapist, where their sessions would be some 150.
    per_week = (
        AttendanceWeek.objects.filter(
            only("therapist_id"),
            clinic_id=clinic_id,
            week_start__gte=window.no_show_since.date(),
            week_start__lte=window.week_start.date(),
        )
        .order_by()
        .values_list("therapist_id")
        .annotate(attended=Sum("attended"), no_show=Sum("no_show"))
    )
    for therapist_id, attended, no_show in per_week:
        row = row_for(therapist_id)
        row.attended_recent = attended or 0
        row.no_show_recent = no_show or 0

    # Unsigned notes, counted under whoever is to sign them, and when the next of them passes
    # 48 hours: those handed to someone when the course moved (``SessionNote.signer``) under
    # them, the others under their session's therapist. One join from the clinic's unsigned
    # notes to their sessions: every way the planner can take it goes through an index (the
    # notes' clinic and signed date, the sessions' key, the note's session), where a
    # per-session EXISTS test could be run as a scan of the notes for each session when the
    # table's statistics are stale (seconds at 2,000 patients).
    cutoff = now - timedelta(hours=UNSIGNED_NOTE_HOURS)
    signer = Coalesce("signer_id", "session__therapist_id")
    unsigned = (
        SessionNote.objects.filter(clinic_id=clinic_id, signed_at__isnull=True)
        .filter(
            Q()
            if therapist_ids is None
            else Q(signer_id__in=therapist_ids)
            | Q(signer__isnull=True, session__therapist_id__in=therapist_ids)
        )
        .order_by()
        .annotate(who=signer)
        .values_list("who")
        .annotate(
            n=Count("pk", filter=Q(session__scheduled_start__lt=cutoff)),
            next_due=Min(
                "session__scheduled_start", filter=Q(session__scheduled_start__gte=cutoff)
            ),
        )
    )
    for therapist_id, n, next_due in unsigned:
        row = row_for(therapist_id)
        row.counts["unsigned_notes"] += n
        soon(row, _after(next_due, timedelta(hours=UNSIGNED_NOTE_HOURS)))

    per_risk = (
        _open_risk_measures()
        .filter(only("course__therapist_id"), clinic_id=clinic_id)
        .order_by()
        .values_list("course__therapist_id")
        .annotate(n=Count("course__patient_id", distinct=True), oldest=Min(RISK_RAISED_AT))
    )
    for therapist_id, n, oldest in per_risk:
        row = row_for(therapist_id)
        row.counts["risk_open"] = n
        row.risk_oldest_at = oldest

    _name_strays(rows, clinic_id)
    ordered = list(rows.values())
    totals = TherapistRow(therapist_id=None, name="Clinic total")
    for row in ordered:
        # This week's figures and the no-show window move on at the start of the next week.
        soon(row, window.week_end)
        for key, value in row.counts.items():
            totals.counts[key] = totals.counts.get(key, 0) + value
        totals.attended_recent += row.attended_recent
        totals.no_show_recent += row.no_show_recent
        if row.risk_oldest_at is not None and (
            totals.risk_oldest_at is None or row.risk_oldest_at < totals.risk_oldest_at
        ):
            totals.risk_oldest_at = row.risk_oldest_at
    return Dashboard(
        window=window, rows=ordered, totals=totals, phase_counts=phase_counts_of(totals)
    )


def _after(moment: datetime | None, age: timedelta) -> datetime | None:
    """The first instant at which ``moment`` is more than ``age`` ago; None for none (or
    past the calendar's end)."""
    if moment is None:
        return None
    try:
        return moment + age + _JUST_AFTER
    except OverflowError:
        return None


def _name_strays(rows: dict[int, TherapistRow], clinic_id: int) -> None:
    """Name the rows of people the staff query did not read (one query, only if any)."""
    strays = [pk for pk, row in rows.items() if not row.name]
    if not strays:
        return
    for member in User.objects.filter(pk__in=strays):
        row = rows[member.pk]
        row.name = member.display_name
        row.deactivated = not member.is_active or member.deactivated_at is not None
        row.on_staff = member.clinic_id == clinic_id and member.role == Role.THERAPIST


SORT_KEYS = ["therapist", *[m.key for m in METRICS]]


def sort_rows(rows: list[TherapistRow], key: str, descending: bool) -> list[TherapistRow]:
    if key not in SORT_KEYS:
        key = "therapist"

    def sort_value(row: TherapistRow):
        value = row.value(key)
        # Rows with no figure (a rate with nothing to divide) sort after every number.
        return (value is None, value if value is not None else 0, row.name.lower())

    ordered = sorted(rows, key=sort_value, reverse=descending)
    if descending:
        # keep "no figure" rows last in both directions
        ordered = [r for r in ordered if r.value(key) is not None] + [
            r for r in ordered if r.value(key) is None
        ]
    return ordered


# --- the caseload table and drill-downs -------------------------------------------------------


@dataclass
class CourseFilters:
    therapist_id: int | None = None
    phase: str = ""
    problem_area: str = ""
    risk: str = ""  # "open": with an open risk flag; "none": without
    status: str = CourseStatus.ACTIVE  # "" for every status
    metric: str = ""


def courses_for_review(clinic_id: int, filters: CourseFilters, window: Window) -> QuerySet:
    """The clinic's courses matching every filter given, with what the table shows."""
    # The attended count is the course's own (kept by the sessions layer).
    courses = TreatmentCourse.objects.filter(clinic_id=clinic_id).annotate(
        attended=F("sessions_attended")
    )
    if filters.metric:
        # A drill-down: the metric fixes the status; the therapist is the one the number was
        # counted under (the course's for course metrics, the session's for the others).
        source = METRICS_BY_KEY[filters.metric].source
        by_session = source in ("session", "note")
        courses = courses.filter(
            metric_condition(filters.metric, window, filters.therapist_id if by_session else None)
        )
        if filters.therapist_id is not None and not by_session:
            courses = courses.filter(therapist_id=filters.therapist_id)
    else:
        if filters.status:
            courses = courses.filter(status=filters.status)
        if filters.therapist_id is not None:
            courses = courses.filter(therapist_id=filters.therapist_id)
    if filters.phase:
        courses = courses.filter(phase=filters.phase)
    if filters.problem_area:
        areas = ProblemArea.objects.filter(
            clinic_id=OuterRef("clinic_id"),
            course=OuterRef("pk"),
            kind=filters.problem_area,
            removed_at__isnull=True,
        )
        courses = courses.filter(Exists(areas))
    open_risk = Exists(
        _open_risk_measures().filter(clinic_id=OuterRef("clinic_id"), course=OuterRef("pk"))
    )
    if filters.risk == "open":
        courses = courses.filter(open_risk)
    elif filters.risk == "none":
        courses = courses.filter(~Q(open_risk))
    return (
        courses.select_related("patient", "therapist")
        .annotate(has_open_risk=open_risk)
        .prefetch_related(
            Prefetch(
                "problem_areas",
                queryset=ProblemArea.objects.filter(removed_at__isnull=True).only(
                    "pk", "course_id", "kind", "is_primary"
                ),
                to_attr="current_problem_areas",
            )
        )
        .order_by("therapist__last_name", "therapist__first_name", "patient__last_name", "pk")
    )


def open_risk_flags(clinic_id: int, therapist_id: int | None = None) -> QuerySet[Measure]:
    """The clinic's open risk flags, oldest first (by when each was raised), each with its
    patient and the course's therapist: those of ``therapist_id``'s courses when given (the
    flags the dashboard counts under them)."""
    flags = _open_risk_measures().filter(clinic_id=clinic_id)
    if therapist_id is not None:
        flags = flags.filter(course__therapist_id=therapist_id)
    return flags.select_related(
        "course__patient", "course__therapist", "risk_acknowledged_by"
    ).order_by(RISK_RAISED_AT, "pk")


def clinic_therapists(clinic_id: int) -> QuerySet[User]:
    """Everyone a course of the clinic may be filtered by or reassigned to (therapists)."""
    return User.objects.filter(clinic_id=clinic_id, role=Role.THERAPIST).order_by(
        "last_name", "first_name", "pk"
    )
