"""Reads for sessions, notes, measures and homework. Every function takes what the caller
may already see (a course or session fetched through ``patients.access``) or the user, and
runs a fixed number of queries whatever the length of the history."""

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from patients.access import scoped_to_user
from patients.models import LifeEvent
from phases.maintenance import booster_session_ids
from phases.models import (
    CourseStatus,
    DisputeStage,
    Goal,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    TreatmentCourse,
)

from .models import (
    CANCELLED_STATUSES,
    Assignment,
    AssignmentStatus,
    GoalReview,
    Measure,
    NoteAddendum,
    SessionNote,
    SessionStatus,
    TherapySession,
)
from .scoring import severity_for

OVERDUE_AFTER = timedelta(hours=48)
# What a page shows of a member of staff (``display_name``), read with the rows naming them.
_USER_NAME = ("id", "username", "first_name", "last_name")


def _rank_sql() -> str:
    session = TherapySession._meta.db_table
    return (
        # Only the model's own table name and placeholders are put into the text.
        f'SELECT COUNT(*) FROM "{session}" AS "earlier" '  # noqa: S608  # nosec B608
        f'WHERE "earlier"."clinic_id" = "{session}"."clinic_id" '
        f'AND "earlier"."course_id" = "{session}"."course_id" '
        f'AND "earlier"."status" = "{session}"."status" '
        f'AND ("earlier"."status" <> %s OR "earlier"."scheduled_start" >= %s) '
        f'AND ("earlier"."scheduled_start" < "{session}"."scheduled_start" '
        f'OR ("earlier"."scheduled_start" = "{session}"."scheduled_start" '
        f'AND "earlier"."id" <= "{session}"."id"))'
    )


_RANK_SQL = _rank_sql()


def with_session_rank(
    sessions: QuerySet[TherapySession], now: datetime | None = None
) -> QuerySet[TherapySession]:
    """Annotate ``status_rank``: the session's place among its course's sessions of the same
    status, in order (a scheduled session's among those still ahead at ``now``), what
    ``display.session_count`` numbers a session by. A subquery, not a window: it stays right
    when the outer query is filtered to one week. Written in SQL: the same subquery built
    from the ORM (OuterRef, Count) took Django longer to compile than the rest of the session
    page's query, on every request; the count itself is one index range (clinic, course,
    scheduled_start). The SQL names the outer table as Django names a query's own table:
    read the result, do not nest it in another query (where Django would rename that
    table)."""
    params = (SessionStatus.SCHEDULED.value, now or timezone.now())
    return sessions.annotate(
        status_rank=RawSQL(_RANK_SQL, params, output_field=IntegerField())  # noqa: S611  # nosec B611
    )


def number_sessions(sessions: list[TherapySession], now: datetime | None = None) -> None:
    """Set ``status_rank`` on each of ``sessions`` (all of one course's, in order) as
    ``with_session_rank`` counts it, without a query."""
    now = now or timezone.now()
    seen: dict[str, int] = {}
    for session in sessions:
        if session.status == SessionStatus.SCHEDULED and session.scheduled_start < now:
            session.status_rank = 0
            continue
        seen[session.status] = seen.get(session.status, 0) + 1
        session.status_rank = seen[session.status]


def sessions_for_user(user) -> QuerySet[TherapySession]:
    return scoped_to_user(TherapySession.objects.all(), user, patient_path="course__patient")


# --------------------------------------------------------------------------- week view


def week_start_for(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, tz) -> tuple[datetime, datetime]:
    """Midnight at the start of ``monday`` and of the Monday after, in ``tz``; in the
    calendar's first and last weeks, its first and last instant (UTC) where the other lies
    outside it."""
    return (
        _midnight(monday, tz, outside=datetime.min.replace(tzinfo=UTC)),
        _midnight(monday + timedelta(days=7), tz, outside=datetime.max.replace(tzinfo=UTC))
        if monday <= date.max - timedelta(days=7)
        else datetime.max.replace(tzinfo=UTC),
    )


def _midnight(day: date, tz, *, outside: datetime) -> datetime:
    """Midnight at the start of ``day`` in ``tz``, or ``outside`` when that midnight cannot
    be written in UTC (the first day of year 1 east of Greenwich)."""
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    try:
        midnight.astimezone(UTC)
    except OverflowError:
        return outside
    return midnight


@dataclass
class WeekDay:
    day: date
    sessions: list


def therapist_week(*, therapist, start: date, tz) -> list[WeekDay]:
    """The therapist's sessions in the seven days from ``start``, days and times in ``tz``,
    of the patients still theirs: a session run before the patient moved to someone else
    stays on the record with who ran it (the course's pages), not in their week."""
    begin, end = week_bounds(start, tz)
    sessions = with_session_rank(
        TherapySession.objects.filter(
            clinic_id=therapist.clinic_id,
            therapist_id=therapist.pk,
            course__patient__primary_therapist_id=therapist.pk,
            scheduled_start__gte=begin,
            scheduled_start__lt=end,
        )
        .select_related("course__patient", "clinic", "note")
        .order_by("scheduled_start", "pk")
    )
    # The calendar's last week ends on its last day, 31 December 9999, a Friday.
    length = min(7, (date.max - start).days + 1)
    days = [WeekDay(day=start + timedelta(days=i), sessions=[]) for i in range(length)]
    for session in sessions:
        local_day = timezone.localtime(session.scheduled_start, tz).date()
        if 0 <= (local_day - start).days < length:
            days[(local_day - start).days].sessions.append(session)
    return days


# --------------------------------------------------------------------------- course


@functools.cache
def _course_reads() -> tuple[QuerySet, QuerySet, QuerySet]:
    """The course's sessions, its chart's measures (with the open flags) and its patient's
    life events as ``course_sessions`` and ``course_chart_data`` read them, but for which
    course: built once per process and only ever chained from (``.filter()`` returns a
    copy), as a generic view's ``queryset`` is."""
    sessions = TherapySession.objects.annotate(
        note_pk=F("note__pk"), note_signed_at=F("note__signed_at")
    ).order_by("scheduled_start", "pk")
    measures_and_flags = Measure.objects.filter(
        Q(superseded_at__isnull=True) | Q(risk_flag=True, risk_responded_at__isnull=True)
    ).order_by("taken_at", "pk")
    life_events = LifeEvent.objects.filter(removed_at__isnull=True).order_by("occurred_on", "pk")
    return sessions, measures_and_flags, life_events


def course_sessions(course: TreatmentCourse) -> list[TherapySession]:
    """All sessions of the course in order, each with its ``status_rank`` (counted here as
    ``with_session_rank`` counts it) and its note's state (``note_pk``, ``note_signed_at``)."""
    sessions = list(_course_reads()[0].filter(clinic_id=course.clinic_id, course_id=course.pk))
    return numbered_course_sessions(course, sessions)


def numbered_course_sessions(
    course: TreatmentCourse, sessions: list[TherapySession]
) -> list[TherapySession]:
    """``sessions`` (all of the course's, in order) with their ``status_rank`` and whether
    each is a booster (``is_booster``, its rank then 0), their course set."""
    boosters = booster_session_ids(course)
    number_sessions([s for s in sessions if s.pk not in boosters])
    for session in sessions:
        session.course = course
        session.is_booster = session.pk in boosters
        if session.is_booster:
            session.status_rank = 0
    return sessions


# Measures superseded by a correction (``Measure.superseded_at``) stay in the record but in no
# list, chart or figure: every read below leaves them out, except the open risk flags (a flag
# raised by answers corrected afterwards stays open until a clinician responds).


def course_measures(course: TreatmentCourse) -> list[Measure]:
    return list(
        Measure.objects.filter(
            clinic_id=course.clinic_id, course_id=course.pk, superseded_at__isnull=True
        )
        .select_related("risk_responded_by")
        .order_by("taken_at", "pk")
    )


def open_risk_flags(course: TreatmentCourse) -> list[Measure]:
    """Every flag no clinician has responded to, superseded measures included: answers that
    were corrected afterwards were still given, so their flag stays until someone responds."""
    return list(
        Measure.objects.filter(
            clinic_id=course.clinic_id,
            course_id=course.pk,
            risk_flag=True,
            risk_responded_at__isnull=True,
        )
        .select_related("risk_acknowledged_by")
        .order_by("taken_at", "pk")
    )


def patient_open_risk_flags(*, clinic_id: int, patient_id: int) -> list[Measure]:
    """Every open flag of the patient, across their courses, oldest first (the session note's
    risk assessment lists them: the note closes them with the same record)."""
    return list(
        Measure.objects.filter(
            clinic_id=clinic_id,
            course__patient_id=patient_id,
            risk_flag=True,
            risk_responded_at__isnull=True,
        )
        .select_related("risk_acknowledged_by")
        .order_by("taken_at", "pk")
    )


@dataclass
class NoteRiskFlags:
    open: list[Measure]  # as ``patient_open_risk_flags``
    closed: list[Measure]  # those closed in the note (``Measure.risk_closed_in_note``)


def note_risk_flags(note: SessionNote, *, patient_id: int) -> NoteRiskFlags:
    """The patient's open flags (``patient_open_risk_flags``) and the flags ``note`` closed,
    oldest first, from one query: the note form's risk assessment shows both."""
    flags = list(
        Measure.objects.filter(
            Q(risk_flag=True, risk_responded_at__isnull=True) | Q(risk_closed_in_note_id=note.pk),
            clinic_id=note.clinic_id,
            course__patient_id=patient_id,
        )
        .select_related("risk_acknowledged_by", "risk_responded_by")
        .only(
            *(f.name for f in Measure._meta.concrete_fields),
            *(
                f"{user}__{name}"
                for user in ("risk_acknowledged_by", "risk_responded_by")
                for name in _USER_NAME
            ),
        )
        .order_by("taken_at", "pk")
    )
    return NoteRiskFlags(
        open=[m for m in flags if m.risk_flag and m.risk_responded_at is None],
        closed=[m for m in flags if m.risk_closed_in_note_id == note.pk],
    )


@dataclass
class InstrumentOutcome:
    baseline: int | None
    latest: int | None
    instrument: str = ""

    @property
    def baseline_band(self) -> str:
        return "" if self.baseline is None else severity_for(self.instrument, self.baseline)

    @property
    def latest_band(self) -> str:
        return "" if self.latest is None else severity_for(self.instrument, self.latest)

    @property
    def change(self) -> int | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest - self.baseline

    @property
    def response(self) -> bool:
        """A drop of 50% or more from a non-zero baseline."""
        if not self.baseline or self.latest is None:
            return False
        return self.latest * 2 <= self.baseline


@dataclass
class CourseOutcome:
    phq9: InstrumentOutcome
    gad7: InstrumentOutcome
    # Functioning, not symptoms: its baseline and latest with their bands, no response or
    # remission (those are the PHQ-9's and GAD-7's).
    wsas: InstrumentOutcome

    @property
    def remission(self) -> bool:
        """PHQ-9 below 5 at the latest score."""
        return self.phq9.latest is not None and self.phq9.latest < 5


def course_outcome(course: TreatmentCourse) -> CourseOutcome:
    """Baseline, latest, change, response and remission from the figures ``measure_record``
    keeps on the course (no query)."""
    return CourseOutcome(
        phq9=InstrumentOutcome(course.baseline_phq9, course.latest_phq9, "phq9"),
        gad7=InstrumentOutcome(course.baseline_gad7, course.latest_gad7, "gad7"),
        wsas=InstrumentOutcome(course.baseline_wsas, course.latest_wsas, "wsas"),
    )


@dataclass
class ChartData:
    course: TreatmentCourse
    measures: list
    transitions: list
    life_events: list
    session_ordinals: dict
    # ``open_risk_flags(course)``, when asked for with the chart (None otherwise).
    open_risk_flags: list | None = None


def course_chart_data(
    course: TreatmentCourse,
    sessions: list | None = None,
    transitions: list | None = None,
    *,
    with_open_risk_flags: bool = False,
) -> ChartData:
    """What the score chart draws: measures, phase changes (unless the caller has them, in
    their order ``at``, ``pk``) and life events, plus the attended sessions' numbers (when
    the caller has not already loaded the sessions, read here). ``with_open_risk_flags``:
    the course's open risk flags too (``open_risk_flags``), read with the measures."""
    if sessions is None:
        sessions = course_sessions(course)
    _, measures_and_flags, life_events = _course_reads()
    flags = None
    if with_open_risk_flags:
        rows = list(measures_and_flags.filter(clinic_id=course.clinic_id, course_id=course.pk))
        measures = [m for m in rows if m.superseded_at is None]
        flags = [m for m in rows if m.risk_flag and m.risk_responded_at is None]
        acknowledged = [m for m in flags if m.risk_acknowledged_by_id is not None]
        if acknowledged:
            prefetch_related_objects(acknowledged, "risk_acknowledged_by")
    else:
        measures = list(
            Measure.objects.filter(
                clinic_id=course.clinic_id, course_id=course.pk, superseded_at__isnull=True
            ).order_by("taken_at", "pk")
        )
    if transitions is None:
        transitions = list(
            PhaseTransition.objects.filter(
                clinic_id=course.clinic_id, course_id=course.pk
            ).order_by("at", "pk")
        )
    life_events = list(life_events.filter(clinic_id=course.clinic_id, patient_id=course.patient_id))
    return ChartData(
        course=course,
        measures=measures,
        transitions=transitions,
        life_events=life_events,
        session_ordinals={
            s.pk: s.status_rank for s in sessions if s.status == SessionStatus.ATTENDED
        },
        open_risk_flags=flags,
    )


# --------------------------------------------------------------------------- one session


# A session's pages show, of its course, patient and clinic, only what their headers and
# checks need; reading just those columns (about half of a seven-table join's) halves the
# work of building the query and its rows. A field left out costs a query of its own when
# read, so the lists name everything these pages and their services use.
SESSION_FIELDS = (
    *(f.name for f in TherapySession._meta.concrete_fields),
    *(f"course__{name}" for name in ("id", "clinic", "patient", "status", "phase")),
    "course__planned_sessions",
    "course__sessions_attended",
    *(
        f"course__patient__{name}"
        for name in ("id", "clinic", "first_name", "last_name", "record_number", "status")
    ),
    *(f"clinic__{name}" for name in ("id", "name", "time_zone")),
)
SESSION_WITH_NOTE_FIELDS = (
    *SESSION_FIELDS,
    *(f"note__{f.name}" for f in SessionNote._meta.concrete_fields),
)


def share_clinic(session: TherapySession) -> TherapySession:
    """Hand the session's clinic, read with it, to its patient too: the patient header reads
    the patient's clinic (its time zone), which is the same row (every clinical row carries
    its patient's clinic)."""
    patient = session.course.patient
    if patient.clinic_id == session.clinic_id:
        patient.clinic = session.clinic
    return session


_SESSION_PAGE_FIELDS = (
    *SESSION_WITH_NOTE_FIELDS,
    *(f"note__focus_problem_area__{name}" for name in ("id", "kind")),
    *(
        f"{user}__{name}"
        for user in ("therapist", "note__signed_by", "note__signer")
        for name in _USER_NAME
    ),
)


def session_page(session_id, user) -> TherapySession:
    """The session with its note, the note's signer and focus, its patient and therapist, in
    one query (statements are prepared on PostgreSQL, so the wide join is planned once per
    connection, not per request), or Http404 for outsiders. The page's other rows come from
    ``session_measures``, ``note_addenda`` and ``session_homework``: each one plain query,
    not Django's prefetch machinery, which cost as much again as the queries themselves. A
    field of a related row left out of ``_SESSION_PAGE_FIELDS`` costs a query when read."""
    from patients.access import get_scoped_or_404

    queryset = with_session_rank(
        TherapySession.objects.select_related(
            "course__patient",
            "therapist",
            "clinic",
            "note__signed_by",
            "note__signer",
            "note__focus_problem_area",
        ).only(*_SESSION_PAGE_FIELDS)
    )
    return share_clinic(
        get_scoped_or_404(queryset, user, session_id, patient_path="course__patient")
    )


@dataclass
class SessionMeasures:
    listed: list[Measure]  # the questionnaires taken, a corrected one by its correction only
    open_flags: list[Measure]  # flags no clinician has responded to, superseded ones included


def session_questionnaires(session: TherapySession) -> SessionMeasures:
    """The questionnaires filed under ``session`` and their open risk flags, oldest first,
    from one query, with who acknowledged or responded to a flag (their names only)."""
    measures = list(
        Measure.objects.filter(clinic_id=session.clinic_id, session_id=session.pk)
        .filter(Q(superseded_at__isnull=True) | Q(risk_flag=True, risk_responded_at__isnull=True))
        .select_related("risk_responded_by", "risk_acknowledged_by")
        .only(
            *(f.name for f in Measure._meta.concrete_fields),
            *(
                f"{user}__{name}"
                for user in ("risk_responded_by", "risk_acknowledged_by")
                for name in _USER_NAME
            ),
        )
        .order_by("taken_at", "pk")
    )
    return SessionMeasures(
        listed=[m for m in measures if m.superseded_at is None],
        open_flags=[m for m in measures if m.risk_flag and m.risk_responded_at is None],
    )


def session_measures(session: TherapySession) -> list[Measure]:
    """The questionnaires taken in ``session`` (a corrected one by its correction only),
    oldest first, with who responded to a risk flag (their name only)."""
    return session_questionnaires(session).listed


def note_addenda(note: SessionNote | None) -> list[NoteAddendum]:
    """A signed note's addenda, oldest first, with their authors' names; none (and no query)
    for a draft, which cannot have any (``note_add_addendum`` refuses them)."""
    if note is None or note.signed_at is None:
        return []
    return list(
        NoteAddendum.objects.filter(clinic_id=note.clinic_id, note_id=note.pk)
        .select_related("author")
        .only(
            *(f.name for f in NoteAddendum._meta.concrete_fields),
            *(f"author__{name}" for name in _USER_NAME),
        )
        .order_by("created_at", "pk")
    )


def _homework_candidates(session: TherapySession, *, with_related: bool) -> list[Assignment]:
    """The course's homework that no other session has reviewed (with the start of the session
    it was set in, ``set_at``): both homework lists of a session are taken from these. With
    ``with_related``, also the person and the problem area each is about (the note form
    shows neither)."""
    queryset = (
        Assignment.objects.filter(clinic_id=session.clinic_id, course_id=session.course_id)
        .filter(
            Q(reviewed_in__isnull=True) | Q(reviewed_in_id=session.pk) | Q(session_id=session.pk)
        )
        .annotate(set_at=F("session__scheduled_start"))
        .order_by("due_date", "pk")
    )
    if with_related:
        # Of the person and the problem area, the names the page shows: both models are wide.
        queryset = queryset.select_related("relationship", "problem_area").only(
            *(f.name for f in Assignment._meta.concrete_fields),
            "relationship__id",
            "relationship__name",
            "problem_area__id",
            "problem_area__kind",
        )
    return list(queryset)


def _is_for_review(assignment: Assignment, session: TherapySession) -> bool:
    """Set before ``session`` (or in no session), still live, and not reviewed in another."""
    return (
        assignment.status != AssignmentStatus.WITHDRAWN
        and assignment.reviewed_in_id in (None, session.pk)
        and (assignment.set_at is None or assignment.set_at < session.scheduled_start)
    )


def homework_for_review(session: TherapySession) -> list[Assignment]:
    """Homework set before this session that has not been reviewed in a later one (or was
    reviewed in this one), with the patient's reflection: what the note form reviews."""
    candidates = _homework_candidates(session, with_related=False)
    return [a for a in candidates if _is_for_review(a, session)]


@dataclass
class SessionHomework:
    set_here: list[Assignment]  # set in this session, withdrawn ones included
    for_review: list[Assignment]  # as ``homework_for_review``


def session_homework(session: TherapySession) -> SessionHomework:
    """Both homework lists of the session page from one query."""
    rows = _homework_candidates(session, with_related=True)
    return SessionHomework(
        set_here=[a for a in rows if a.session_id == session.pk],
        for_review=[a for a in rows if _is_for_review(a, session)],
    )


def goals_for_review(session: TherapySession) -> list[Goal]:
    """The course's live goals, each with this session's review of it if there is one
    (``review_progress`` and ``review_status``, else None), in one query."""
    return list(
        Goal.objects.filter(
            clinic_id=session.clinic_id, course_id=session.course_id, removed_at__isnull=True
        )
        .annotate(
            this_review=FilteredRelation("reviews", condition=Q(reviews__session_id=session.pk)),
            review_progress=F("this_review__progress"),
            review_status=F("this_review__status"),
        )
        .order_by("pk")
    )


def disputes_for_note(session: TherapySession) -> list[ProblemArea]:
    """The course's role disputes, each with the stage recorded at ``session`` if one was
    (``session_stage`` and ``session_stage_note``: the latest entry for it, else None) and
    the other party's name, in one query."""
    return _areas_at_session(session, kind=ProblemAreaKind.ROLE_DISPUTE)


@dataclass
class NoteProblemAreas:
    live: list[ProblemArea]  # the course's, primary first: the note's focus to choose from
    disputes: list[ProblemArea]  # as ``disputes_for_note``


def note_problem_areas(session: TherapySession) -> NoteProblemAreas:
    """The course's live problem areas (what the note's focus is chosen from, in the model's
    order) and, among them, its role disputes as ``disputes_for_note`` reads them: one
    query for both."""
    areas = _areas_at_session(session)
    return NoteProblemAreas(
        live=areas, disputes=[a for a in areas if a.kind == ProblemAreaKind.ROLE_DISPUTE]
    )


def _areas_at_session(session: TherapySession, **filters) -> list[ProblemArea]:
    """The course's live problem areas (``filters`` narrowing them), each with the latest
    stage recorded for it at ``session``. Its entries at the session are joined rather than
    read by a subquery per column: Django took about as long again to build the
    subqueries as the rest of the query, and a dispute has one entry at a session, rarely
    two (the latest is kept here)."""
    rows = (
        ProblemArea.objects.filter(
            clinic_id=session.clinic_id,
            course_id=session.course_id,
            removed_at__isnull=True,
            **filters,
        )
        .select_related("other_party")
        # Of the other party, a wide row, the name only.
        .only(
            *(f.name for f in ProblemArea._meta.concrete_fields),
            "other_party__id",
            "other_party__name",
        )
        .annotate(
            at_session=FilteredRelation(
                "stage_entries",
                condition=Q(
                    stage_entries__clinic_id=session.clinic_id,
                    stage_entries__session_id=session.pk,
                ),
            ),
            entry_stage=F("at_session__stage"),
            entry_note=F("at_session__note"),
            entry_at=F("at_session__at"),
            entry_id=F("at_session__id"),
        )
        .order_by("-is_primary", "pk")
    )
    areas: dict[int, ProblemArea] = {}
    for area in rows:
        kept = areas.setdefault(area.pk, area)
        if area.entry_id is not None and (
            kept.entry_id is None or (area.entry_at, area.entry_id) > (kept.entry_at, kept.entry_id)
        ):
            areas[area.pk] = area
    labels = dict(DisputeStage.choices)
    for area in areas.values():
        area.session_stage = area.entry_stage
        area.session_stage_note = area.entry_note
        area.session_stage_label = labels.get(area.session_stage, "")
        area.other_name = area.other_party.name if area.other_party_id else "the other party"
    return list(areas.values())


def note_goal_reviews(session: TherapySession) -> list[GoalReview]:
    """The goals' progress as reviewed in ``session``, with each goal's text."""
    return list(
        GoalReview.objects.filter(clinic_id=session.clinic_id, session_id=session.pk)
        .select_related("goal")
        .order_by("goal_id")
    )


def note_homework_reviewed(session: TherapySession) -> list[Assignment]:
    """The homework reviewed (done or not done) in ``session``."""
    return list(
        Assignment.objects.filter(
            clinic_id=session.clinic_id, course_id=session.course_id, reviewed_in_id=session.pk
        ).order_by("due_date", "pk")
    )


def note_history(note: SessionNote):
    return note.revisions.select_related("saved_by").order_by("-version")


# --------------------------------------------------------------------------- home


def unsigned_notes_overdue(therapist) -> list[TherapySession]:
    """The sessions that took place more than 48 hours ago without a signed note (no note
    yet, or a note still unsigned) that ``therapist`` is to write: their own sessions, and
    notes handed to them when a course moved (``SessionNote.signer``); cancelled and no-show
    sessions excepted."""
    cutoff = timezone.now() - OVERDUE_AFTER
    theirs = Q(therapist_id=therapist.pk, note__signer__isnull=True) | Q(
        note__signer_id=therapist.pk
    )
    # Of the patients they may open: none of a patient who has moved to someone else.
    return list(
        scoped_to_user(TherapySession.objects.all(), therapist, "course__patient")
        .filter(
            theirs,
            scheduled_start__lt=cutoff,
            course__status="active",
        )
        .exclude(status__in=(*CANCELLED_STATUSES, SessionStatus.NO_SHOW))
        .filter(Q(note__isnull=True) | Q(note__signed_at__isnull=True))
        .select_related("course__patient", "clinic", "note")
        .order_by("scheduled_start", "pk")
    )


@functools.cache
def _header_reads() -> tuple[QuerySet, QuerySet]:
    """The header's two reads but for whose and when: built once per process and only ever
    chained from (``.filter()`` returns a copy), as a generic view's ``queryset`` is."""
    booked = (
        TherapySession.objects.filter(status=SessionStatus.SCHEDULED)
        .order_by("scheduled_start", "pk")
        .values_list("pk", "scheduled_start")
    )
    open_flags = (
        Measure.objects.filter(risk_flag=True, risk_responded_at__isnull=True)
        .order_by("taken_at", "pk")
        .values_list("pk", flat=True)
    )
    return booked, open_flags


# The header shows at most this many open flags (a count beyond it reads as this many).
HEADER_FLAGS_SHOWN = 50


class HeaderSessions:
    """The patient header's part (``patients.header``): the next appointment of the active
    course and the open risk flags. Two queries; one when the header's facts say the patient
    has no active course (phases' part, before this one, found it), or when the page read
    the flags along with the patient (``patient_annotations``)."""

    def patient_annotations(self) -> dict:
        """The open flags of the patient (``OuterRef("pk")``): how many (at most
        ``HEADER_FLAGS_SHOWN``) and the first."""
        open_flags = Measure.objects.filter(
            clinic_id=OuterRef("clinic_id"),
            course__patient_id=OuterRef("pk"),
            risk_flag=True,
            risk_responded_at__isnull=True,
        )
        count = open_flags.order_by().values("clinic_id").annotate(n=Count("pk")).values("n")
        return {
            "header_open_flags": Least(Coalesce(Subquery(count), 0), HEADER_FLAGS_SHOWN),
            "header_first_flag": Subquery(open_flags.order_by("taken_at", "pk").values("pk")[:1]),
        }

    def list_annotations(self) -> dict:
        """The first open flag of the patient (``OuterRef("pk")``), for a list's risk badge."""
        return {"header_first_flag": self.patient_annotations()["header_first_flag"]}

    def __call__(self, patient, *, facts=None, known=None) -> dict:
        booked, open_flags = _header_reads()
        ahead = booked.filter(clinic_id=patient.clinic_id, scheduled_start__gte=timezone.now())
        if facts is not None and "course" in facts:
            course = facts["course"]
            ahead = ahead.filter(course_id=course.pk) if course is not None else None
        else:
            ahead = ahead.filter(course__patient_id=patient.pk, course__status=CourseStatus.ACTIVE)
        next_session = None
        if ahead is not None:
            for pk, start in ahead[:1]:
                next_session = {"pk": pk, "scheduled_start": start}
        if hasattr(patient, "header_first_flag"):
            count, first = patient.header_open_flags, patient.header_first_flag
        else:
            flags = list(
                open_flags.filter(clinic_id=patient.clinic_id, course__patient_id=patient.pk)[
                    :HEADER_FLAGS_SHOWN
                ]
            )
            count, first = len(flags), (flags[0] if flags else None)
        return {
            "next_session": next_session,
            "open_flags": count if first is not None else 0,
            "first_flag": {"pk": first} if first is not None else None,
        }


header_sessions = HeaderSessions()
