"""The therapist's home page: their day (today's sessions, what is left to close out, the
next appointments) and their caseload. Every figure is an annotation or a subquery on one
query per list, so the page costs the same whatever the caseload and its history."""

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from patients.access import patients_visible_to, scoped_to_user
from patients.models import Patient, PatientStatus
from phases.maintenance import maintenance_flags
from phases.models import (
    PHASE_ORDER,
    CourseStatus,
    MaintenanceBooster,
    MidCourseReview,
    Phase,
    ProblemArea,
    TreatmentCourse,
)
from phases.services import ReviewState, halfway_session, mid_course_review_state
from sessions.models import CANCELLED_STATUSES, Measure, SessionStatus, TherapySession
from sessions.selectors import OVERDUE_AFTER, with_session_rank

# Flags (the IPT manual's pacing): by session 4 the problem area should be agreed; the
# PHQ-9 is taken at least every 4 sessions; termination starts 3 sessions before the end.
PROBLEM_AREA_BY_SESSION = 4
PHQ9_EVERY_SESSIONS = 4
TERMINATION_SESSIONS_BEFORE_END = 3


def _attended(course_ref="pk"):
    return TherapySession.objects.filter(
        clinic_id=OuterRef("clinic_id"),
        course_id=OuterRef(course_ref),
        status=SessionStatus.ATTENDED,
    )


# What the caseload's table, its flags (``course_flags``, the maintenance contract's) and the
# home's audit read of a course, its patient and clinic: a course is a wide row (its
# formulation, its contract's texts), and every column read is compiled on every request.
_CASELOAD_COLUMNS = (
    "clinic_id",
    "patient",
    "course_type",
    "status",
    "phase",
    "start_date",
    "planned_sessions",
    "sessions_attended",
    "latest_phq9_at",
    "patient__clinic_id",
    "patient__first_name",
    "patient__last_name",
    "clinic__time_zone",
)


@functools.cache
def _caseload_base() -> QuerySet[TreatmentCourse]:
    """What ``caseload_courses`` reads of every course, built once per process: everything
    but the user's scope and the next session (which depends on the time). Only ever chained
    from (``.filter()`` and the like return a copy), never evaluated itself, as a generic
    view's ``queryset``: building the subqueries anew took Django as long as compiling them,
    on every request."""
    # The start of the window of the last N attended sessions: the (N+1)-th most recent.
    window_start = (
        _attended()
        .order_by("-scheduled_start")
        .values("scheduled_start")[PHQ9_EVERY_SESSIONS : PHQ9_EVERY_SESSIONS + 1]
    )
    # The course's latest PHQ-9 (of those no correction has superseded).
    last_phq9 = (
        Measure.objects.filter(
            clinic_id=OuterRef("clinic_id"),
            course_id=OuterRef("pk"),
            instrument="phq9",
            superseded_at__isnull=True,
        )
        .order_by("-taken_at")
        .values("taken_at")[:1]
    )
    boosters = (
        MaintenanceBooster.objects.filter(clinic_id=OuterRef("clinic_id"), course_id=OuterRef("pk"))
        .order_by()
        .values("course_id")
    )
    return (
        TreatmentCourse.objects.select_related("patient", "clinic")
        .only(*_CASELOAD_COLUMNS)
        .annotate(
            # A maintenance course's boosters, and those without a warning sign recorded.
            booster_count=Coalesce(Subquery(boosters.annotate(n=Count("pk")).values("n")), 0),
            unnamed_boosters=Coalesce(
                Subquery(boosters.filter(warning_sign="").annotate(n=Count("pk")).values("n")), 0
            ),
            # Kept by the sessions layer as attendance is recorded (sessions.attendance).
            attended_sessions=F("sessions_attended"),
            phq9_window_start=Subquery(window_start),
            last_phq9_taken_at=Subquery(last_phq9),
            has_problem_area=Exists(
                ProblemArea.objects.filter(
                    clinic_id=OuterRef("clinic_id"),
                    course_id=OuterRef("pk"),
                    removed_at__isnull=True,
                )
            ),
            has_mid_course_review=Exists(
                MidCourseReview.objects.filter(
                    clinic_id=OuterRef("clinic_id"), course_id=OuterRef("pk")
                )
            ),
            has_open_risk=Exists(
                Measure.objects.filter(
                    clinic_id=OuterRef("clinic_id"),
                    course_id=OuterRef("pk"),
                    risk_flag=True,
                    risk_responded_at__isnull=True,
                )
            ),
        )
        .order_by("patient__last_name", "patient__first_name", "pk")
    )


def caseload_courses(user):
    """The user's own active courses, each annotated with what the home page shows."""
    next_session = (
        TherapySession.objects.filter(
            clinic_id=OuterRef("clinic_id"),
            course_id=OuterRef("pk"),
            status=SessionStatus.SCHEDULED,
            scheduled_start__gte=timezone.now(),
        )
        .order_by("scheduled_start")
        .values("scheduled_start")[:1]
    )
    return (
        scoped_to_user(_caseload_base(), user, "patient")
        .filter(patient__primary_therapist_id=user.pk, status=CourseStatus.ACTIVE)
        .annotate(next_session_at=Subquery(next_session))
    )


def course_flags(course) -> list[tuple[str, str]]:
    """(css kind, text) for each flag of an annotated course from ``caseload_courses``."""
    flags = []
    n = course.attended_sessions
    if course.has_open_risk:
        flags.append(("risk", "Open risk flag (PHQ-9 item 9)"))
    if course.is_maintenance:
        # Maintenance IPT keeps its own contract: its flags take the acute pacing's place.
        tz = course.clinic.tz
        return flags + maintenance_flags(
            course,
            boosters=course.booster_count,
            unnamed_boosters=course.unnamed_boosters,
            today=timezone.localdate(timezone=tz),
            tz=tz,
        )
    if n >= PROBLEM_AREA_BY_SESSION and not course.has_problem_area:
        flags.append(("pacing", f"No problem area by session {PROBLEM_AREA_BY_SESSION}"))
    if n >= PHQ9_EVERY_SESSIONS:
        last, window_start = course.last_phq9_taken_at, course.phq9_window_start
        # A PHQ-9 since the window's start; any PHQ-9 at all while there is no such window.
        recent = last is not None and (window_start is None or last > window_start)
        if not recent:
            flags.append(("measure", f"No PHQ-9 in the last {PHQ9_EVERY_SESSIONS} sessions"))
    review = mid_course_review_state(course, reviewed=course.has_mid_course_review)
    if review == ReviewState.OVERDUE:
        flags.append(("review", f"Mid-course review overdue (session {halfway_session(course)})"))
    termination_due = course.planned_sessions - TERMINATION_SESSIONS_BEFORE_END
    if n >= termination_due and course.phase in (
        Phase.INITIAL,
        Phase.SOCIAL,
        Phase.PROBLEM_SOLVING,
    ):
        flags.append(("pacing", f"Termination not begun by session {termination_due}"))
    return flags


@functools.cache
def _without_course() -> QuerySet[Patient]:
    """Active patients with no active course, in order; built once per process and only
    chained from (see ``_caseload_base``)."""
    return (
        Patient.objects.filter(status=PatientStatus.ACTIVE)
        .exclude(courses__status=CourseStatus.ACTIVE)
        .order_by("last_name", "first_name", "pk")
    )


@dataclass
class PhaseGroup:
    phase: str
    label: str
    courses: list = field(default_factory=list)


def therapist_home(user) -> dict:
    """The caseload grouped by phase (in phase order), plus active patients with no course."""
    groups = {
        phase: PhaseGroup(phase, Phase(phase).label)
        for phase in [*PHASE_ORDER, Phase.MAINTENANCE]
        if phase != Phase.COMPLETED
    }
    flagged = 0
    at_risk = []
    for course in caseload_courses(user):
        course.flags = course_flags(course)
        flagged += bool(course.flags)
        groups[course.phase].courses.append(course)
        if course.has_open_risk:
            at_risk.append(course)
    without_course = list(
        patients_visible_to(user, within=_without_course()).filter(primary_therapist_id=user.pk)
    )
    return {
        "phase_groups": list(groups.values()),
        "caseload_size": sum(len(g.courses) for g in groups.values()),
        "flagged_count": flagged,
        # Shown first, above the day's lists: the flags nobody has answered yet.
        "risk_courses": at_risk,
        "patients_without_course": without_course,
    }


# --- the therapist's day -----------------------------------------------------------------

NEXT_APPOINTMENTS = 8


# What the day's lists (``caseload/day_html.py``, "session x of N") and the home's
# audit read of a session, its course, patient and note: they are wide rows, and every column
# read is compiled on every request and turned into an attribute on every row.
_DAY_COLUMNS = (
    "clinic_id",
    "course_id",
    "therapist_id",
    "scheduled_start",
    "duration_minutes",
    "modality",
    "status",
    "course__clinic_id",
    "course__patient",
    "course__status",
    "course__sessions_attended",
    "course__planned_sessions",
    "course__patient__clinic_id",
    "course__patient__first_name",
    "course__patient__last_name",
    "note__session_id",
    "note__signed_at",
    "note__version",
    "note__signer_id",
)


@functools.cache
def _sessions_base() -> QuerySet[TherapySession]:
    """The day's lists' sessions with what they show (the course and patient, the note), in
    order; built once per process and only chained from (see ``_caseload_base``)."""
    return (
        TherapySession.objects.select_related("course__patient", "note")
        .only(*_DAY_COLUMNS)
        .order_by("scheduled_start", "pk")
    )


def _sessions_seen_by(user):
    """Sessions of patients ``user`` may open (a patient who moved to someone else is not
    among them), with what the day's lists show: the course and patient, the note's state
    and the session's number in its course."""
    return with_session_rank(scoped_to_user(_sessions_base(), user, "course__patient"))


def _today(user, *, day_start: datetime, day_end: datetime) -> Q:
    """``user``'s sessions between ``day_start`` and ``day_end`` (today, clinic time),
    cancelled ones included."""
    return Q(therapist_id=user.pk, scheduled_start__gte=day_start, scheduled_start__lt=day_end)


def _to_close_out(user, *, now: datetime, before: datetime) -> Q:
    """What is left to do for sessions that have taken place before ``before`` (the start of
    today: today's sessions have a list of their own): attendance not recorded (their own
    sessions), and notes not written or not signed that are ``user``'s to sign: their own
    sessions' and those handed to them when a course moved (``SessionNote.signer``)."""
    to_record = Q(therapist_id=user.pk, status=SessionStatus.SCHEDULED)
    theirs_to_sign = Q(therapist_id=user.pk, note__signer__isnull=True) | Q(note__signer_id=user.pk)
    unsigned = Q(status=SessionStatus.ATTENDED) & (
        Q(note__isnull=True) | Q(note__signed_at__isnull=True)
    )
    return (
        Q(scheduled_start__lt=min(now, before), course__status=CourseStatus.ACTIVE)
        & (to_record | (theirs_to_sign & unsigned))
        & ~Q(status__in=(*CANCELLED_STATUSES, SessionStatus.NO_SHOW))
    )


def _mark_overdue(sessions: list[TherapySession], now: datetime) -> list[TherapySession]:
    """Each close-out session gets ``overdue`` once it is more than 48 hours old."""
    for session in sessions:
        session.overdue = session.scheduled_start < now - OVERDUE_AFTER
    return sessions


def next_appointments(user, *, after: datetime, limit: int = NEXT_APPOINTMENTS):
    """``user``'s next ``limit`` booked sessions from ``after`` (the end of today) on."""
    return list(
        _sessions_seen_by(user).filter(
            therapist_id=user.pk, status=SessionStatus.SCHEDULED, scheduled_start__gte=after
        )[:limit]
    )


def therapist_day(user, *, now: datetime | None = None) -> dict:
    """Today's sessions, the close-out list and the next appointments, days in the clinic's
    time zone: two queries (today's sessions and the close-out list are read together: the
    close-out list ends where today begins)."""
    now = now or timezone.now()
    tz = user.clinic.tz if user.clinic_id else UTC
    today = timezone.localdate(now, tz)
    day_start = datetime.combine(today, time.min, tzinfo=tz)
    day_end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    both = list(
        _sessions_seen_by(user).filter(
            _today(user, day_start=day_start, day_end=day_end)
            | _to_close_out(user, now=now, before=day_start)
        )
    )
    return {
        "today": today,
        "today_sessions": [s for s in both if s.scheduled_start >= day_start],
        "close_out": _mark_overdue([s for s in both if s.scheduled_start < day_start], now),
        "next_appointments": next_appointments(user, after=day_end),
        "now": now,
    }
