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

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
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
PHQ9_MAX_AGE_DAYS = 14
# The course keeps the start of its last two attended sessions for this rule (``phq9_overdue``).
PHQ9_MAX_SESSIONS_WITHOUT = 2

ACTIVE_PHASES = [Phase.INITIAL, Phase.SOCIAL, Phase.PROBLEM_SOLVING, Phase.TERMINATION]

PHQ9_OVERDUE_RULE = (
    f"An active course is PHQ-9 overdue when its last PHQ-9 is more than {PHQ9_MAX_AGE_DAYS} "
    f"days old, or {PHQ9_MAX_SESSIONS_WITHOUT} or more attended sessions have taken place since "
    f"it. A course with no PHQ-9 yet is overdue once it is {PHQ9_MAX_AGE_DAYS} days old or has "
    f"had {PHQ9_MAX_SESSIONS_WITHOUT} attended sessions."
)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    help: str
    # "course": counted over active courses by course therapist; "session"/"note"/"risk":
    # counted over sessions, notes or measures by the therapist they belong to.
    source: str


METRICS: list[Metric] = [
    Metric("active", "Active courses", "Courses with status active.", "course"),
    *[
        Metric(f"phase_{phase.value}", phase.label, f"Active courses in {phase.label}.", "course")
        for phase in ACTIVE_PHASES
    ],
    Metric(
        "sessions_week",
        "Sessions this week",
        "Sessions booked from Monday to Sunday of this week (clinic time), not cancelled.",
        "session",
    ),
    Metric(
        "no_show_rate",
        f"No-show rate ({NO_SHOW_WINDOW_WEEKS} wk)",
        f"Did-not-attend as a share of attended plus did-not-attend sessions this week and the "
        f"{NO_SHOW_WINDOW_WEEKS - 1} weeks before it, from Monday, clinic time (cancellations "
        f"left out). The list shows patients with a no-show in that time.",
        "session",
    ),
    Metric(
        "unsigned_notes",
        f"Unsigned notes > {UNSIGNED_NOTE_HOURS} h",
        f"Session notes not yet signed whose session was more than {UNSIGNED_NOTE_HOURS} hours ago.",
        "note",
    ),
    Metric(
        "no_session_14",
        f"No session for {NO_SESSION_DAYS} d",
        f"Active courses at least {NO_SESSION_DAYS} days old with no attended session in the "
        f"last {NO_SESSION_DAYS} days.",
        "course",
    ),
    Metric(
        "past_planned",
        "Past planned sessions",
        "Active courses whose attended sessions have reached the planned number.",
        "course",
    ),
    Metric(
        "risk_open",
        "Open risk flags",
        "Patients with a PHQ-9 item-9 risk flag that no clinician has responded to yet.",
        "risk",
    ),
    Metric("phq9_overdue", "PHQ-9 overdue", PHQ9_OVERDUE_RULE, "course"),
]
METRICS_BY_KEY = {metric.key: metric for metric in METRICS}


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
        never = Q(latest_phq9_at__isnull=True) & (
            Q(start_date__lte=window.today - timedelta(days=PHQ9_MAX_AGE_DAYS))
            | Q(sessions_attended__gte=PHQ9_MAX_SESSIONS_WITHOUT)
        )
        stale = Q(latest_phq9_at__lt=now - timedelta(days=PHQ9_MAX_AGE_DAYS))
        # Two attended sessions after the latest PHQ-9: the one before the last is after it.
        sessions_since = Q(previous_attended_at__gt=F("latest_phq9_at"))
        return active & (never | stale | sessions_since)

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


def _open_risk_measures() -> QuerySet[Measure]:
    # Superseded measures included: answers the patient gave and then corrected were still
    # given, and a flag they raised stays open until a clinician responds to it.
    return Measure.objects.filter(risk_flag=True, risk_responded_at__isnull=True)


# --- the dashboard ---------------------------------------------------------------------------


# The figures a row counts (the no-show rate is worked out from two of them).
COUNTED_KEYS = [m.key for m in METRICS if m.key != "no_show_rate"]


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

    @property
    def no_show_rate(self) -> float | None:
        seen = self.attended_recent + self.no_show_recent
        return None if seen == 0 else self.no_show_recent / seen

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


def dashboard_for_clinic(clinic_id: int, tz: ZoneInfo, now: datetime | None = None) -> Dashboard:
    """Per-therapist figures and clinic totals in six grouped queries, whatever the size."""
    window = Window.for_clinic(tz, now)
    rows: dict[int, TherapistRow] = {}

    staff = (
        User.objects.filter(clinic_id=clinic_id, role=Role.THERAPIST)
        .order_by("last_name", "first_name", "pk")
        .values_list("pk", "first_name", "last_name", "username", "is_active", "deactivated_at")
    )
    for pk, first_name, last_name, username, is_active, deactivated_at in staff:
        rows[pk] = TherapistRow(
            therapist_id=pk,
            name=f"{first_name} {last_name}".strip() or username,
            deactivated=not is_active or deactivated_at is not None,
        )

    def row_for(therapist_id: int) -> TherapistRow:
        # A course may sit with someone who is not (or no longer) a therapist: still counted.
        if therapist_id not in rows:
            rows[therapist_id] = TherapistRow(therapist_id=therapist_id, name="")
        return rows[therapist_id]

    per_course = (
        TreatmentCourse.objects.filter(clinic_id=clinic_id, status=CourseStatus.ACTIVE)
        .order_by()
        .values_list("therapist_id")
        .annotate(
            **{key: Count("pk", filter=metric_condition(key, window)) for key in COURSE_METRIC_KEYS}
        )
    )
    for therapist_id, *values in _integer_rows(per_course):
        row_for(therapist_id).counts.update(zip(COURSE_METRIC_KEYS, values, strict=True))

    per_session = (
        TherapySession.objects.filter(
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
    for therapist_id, sessions_week in _integer_rows(per_session):
        row_for(therapist_id).counts["sessions_week"] = sessions_week

    # Attendance in the no-show window from the therapists' weeks (sessions.attendance keeps
    # them): about 13 rows a therapist, where their sessions would be some 150.
    per_week = (
        AttendanceWeek.objects.filter(
            clinic_id=clinic_id,
            week_start__gte=window.no_show_since.date(),
            week_start__lte=window.week_start.date(),
        )
        .order_by()
        .values_list("therapist_id")
        .annotate(attended=Sum("attended"), no_show=Sum("no_show"))
    )
    for therapist_id, attended, no_show in _integer_rows(per_week):
        row = row_for(therapist_id)
        row.attended_recent = attended
        row.no_show_recent = no_show

    per_note = (
        SessionNote.objects.filter(
            clinic_id=clinic_id,
            signed_at__isnull=True,
            session__scheduled_start__lt=window.now - timedelta(hours=UNSIGNED_NOTE_HOURS),
        )
        .order_by()
        # Counted under whoever is to sign the note (the one it was handed to, if any).
        .values_list(Coalesce("signer_id", "session__therapist_id"))
        .annotate(n=Count("pk"))
    )
    for therapist_id, n in _integer_rows(per_note):
        row_for(therapist_id).counts["unsigned_notes"] = n

    per_risk = (
        _open_risk_measures()
        .filter(clinic_id=clinic_id)
        .order_by()
        .values_list("course__therapist_id")
        .annotate(n=Count("course__patient_id", distinct=True))
    )
    for therapist_id, n in _integer_rows(per_risk):
        row_for(therapist_id).counts["risk_open"] = n

    _name_strays(rows)
    ordered = list(rows.values())
    totals = TherapistRow(therapist_id=None, name="Clinic total")
    for row in ordered:
        for key, value in row.counts.items():
            totals.counts[key] = totals.counts.get(key, 0) + value
        totals.attended_recent += row.attended_recent
        totals.no_show_recent += row.no_show_recent
    phase_counts = [
        (phase.value, phase.label, totals.counts.get(f"phase_{phase.value}", 0))
        for phase in ACTIVE_PHASES
    ]
    return Dashboard(window=window, rows=ordered, totals=totals, phase_counts=phase_counts)


def _integer_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a grouped count (a therapist's id and integers) as the database returns
    them: the ORM builds the statement, and its per-value converters, which would only turn
    integers into integers, are skipped (about a millisecond at a clinic of 200 therapists,
    where the dashboard reads five such sets of rows)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _name_strays(rows: dict[int, TherapistRow]) -> None:
    """Name the rows of people who are not therapists of the clinic (one query, only if any)."""
    strays = [pk for pk, row in rows.items() if not row.name]
    if not strays:
        return
    for member in User.objects.filter(pk__in=strays):
        rows[member.pk].name = member.display_name
        rows[member.pk].deactivated = not member.is_active or member.deactivated_at is not None


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


def clinic_therapists(clinic_id: int) -> QuerySet[User]:
    """Everyone a course of the clinic may be filtered by or reassigned to (therapists)."""
    return User.objects.filter(clinic_id=clinic_id, role=Role.THERAPIST).order_by(
        "last_name", "first_name", "pk"
    )
