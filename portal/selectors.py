"""Reads for the portal (scoped to the one patient of the portal session). Every query
filters by clinic first. (What patients did in the portal, as their therapist sees it, is
read by ``sessions.portal_activity``.)

The portal reads only what a patient may see: their scheduled sessions (time, length, how),
their homework, their own questionnaires' scores, the relapse-prevention plan, and what was
agreed: the formulation in their words once the therapist shares it, their problem areas and
goals. Notes, the clinical formulation and what staff wrote about a score (its risk response)
are never selected here. A score the therapist typed from the patient's own answers in a
session is the patient's too: IPT shares the score as part of treatment, so "My progress"
shows it; only the portal's own thank-you page is limited to what the patient sent through
the portal.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from patients.models import Patient, PortalLink, Relationship
from patients.portal_links import portal_link_expiry
from phases.formulation_sharing import awaiting_answer, shared_formulation, shares_formulation
from phases.maintenance import checkin_now
from phases.models import (
    CourseStatus,
    FormulationAnswer,
    FormulationShare,
    Goal,
    Phase,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from sessions.measure_schedule import (
    phq9_asks_before_sessions,
    phq9_due_before_next_session,
    phq9_due_instant,
    phq9_overdue_condition,
)
from sessions.models import (
    Assignment,
    AssignmentStatus,
    EnteredBy,
    HomeworkEntry,
    Measure,
    SessionStatus,
    TherapySession,
)
from sessions.scoring import instrument_language
from sessions.selectors import with_session_rank

# A maintenance course carries its plan over from the course before it: the patient keeps it.
PLAN_PHASES = (Phase.TERMINATION, Phase.COMPLETED, Phase.MAINTENANCE)


def _sessions_ahead(patient: Patient, now: datetime) -> QuerySet[TherapySession]:
    """The patient's scheduled sessions from ``now`` on, soonest first: those of their active
    course (a patient has one at most)."""
    return TherapySession.objects.filter(
        clinic_id=patient.clinic_id,
        course__patient_id=patient.pk,
        course__status=CourseStatus.ACTIVE,
        status=SessionStatus.SCHEDULED,
        scheduled_start__gte=now,
    ).order_by("scheduled_start", "id")


def portal_upcoming_sessions(patient: Patient) -> QuerySet[TherapySession]:
    """The patient's sessions ahead, each numbered as every page numbers it
    (``sessions.display.session_count``: "next: session 4 of 12")."""
    now = timezone.now()
    return with_session_rank(_sessions_ahead(patient, now).select_related("course"), now)


def portal_get_upcoming_session(patient: Patient, session_id) -> TherapySession:
    try:
        return portal_upcoming_sessions(patient).get(pk=int(session_id))
    except (TherapySession.DoesNotExist, ValueError, TypeError):
        raise Http404("No such session.") from None


def _assignments(patient: Patient) -> QuerySet[Assignment]:
    return Assignment.objects.filter(clinic_id=patient.clinic_id, course__patient_id=patient.pk)


def portal_current_assignments(patient: Patient) -> QuerySet[Assignment]:
    return _assignments(patient).filter(status=AssignmentStatus.ASSIGNED).order_by("due_date", "id")


@dataclass
class PortalHomework:
    current: list[Assignment]  # to do, soonest due first (``portal_current_assignments``)
    past: list[Assignment]  # done or not done, the latest closed first


def portal_homework(patient: Patient) -> PortalHomework:
    """The homework list: what is to do and what was done before, in one query (the list
    shows a piece's title, instructions, due date and how it ended; withdrawn homework is
    not shown)."""
    assignments = list(
        _assignments(patient)
        .filter(
            status__in=[
                AssignmentStatus.ASSIGNED,
                AssignmentStatus.DONE,
                AssignmentStatus.NOT_DONE,
            ]
        )
        .only("id", "title", "instructions", "due_date", "status", "completed_at")
        .order_by("-completed_at", "-id")
    )
    return PortalHomework(
        current=sorted(
            (a for a in assignments if a.status == AssignmentStatus.ASSIGNED),
            key=lambda a: (a.due_date, a.pk),
        ),
        past=[a for a in assignments if a.status != AssignmentStatus.ASSIGNED],
    )


def portal_get_assignment(patient: Patient, assignment_id) -> Assignment:
    try:
        return (
            _assignments(patient)
            .exclude(status=AssignmentStatus.WITHDRAWN)
            .select_related("clinic", "session", "reviewed_in")
            .get(pk=int(assignment_id))
        )
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such homework.") from None


def portal_get_homework_entry(assignment: Assignment, entry_id) -> HomeworkEntry:
    """One entry of ``assignment`` (already the patient's, ``portal_get_assignment``)."""
    try:
        return HomeworkEntry.objects.get(
            clinic_id=assignment.clinic_id, assignment_id=assignment.pk, pk=int(entry_id)
        )
    except (HomeworkEntry.DoesNotExist, ValueError, TypeError):
        raise Http404("No such entry.") from None


def portal_active_course(patient: Patient) -> TreatmentCourse | None:
    return TreatmentCourse.objects.filter(
        clinic_id=patient.clinic_id, patient_id=patient.pk, status=CourseStatus.ACTIVE
    ).first()


def _plan_is_shown(course: TreatmentCourse | None) -> bool:
    """A plan is the patient's to read once its course is in termination or completed."""
    return course is not None and (
        course.phase in PLAN_PHASES or course.status == CourseStatus.COMPLETED
    )


@dataclass
class PortalHome:
    has_active_course: bool  # the questionnaires are offered while a course runs
    has_plan: bool  # as ``portal_relapse_plan`` would find one
    checkin_due: bool = False  # a maintenance course's monthly PHQ-9 is asked for
    has_course: bool = False  # "What we agreed" has something to show
    formulation_shared: bool = False  # the latest course shares its formulation
    formulation_awaiting: bool = False  # ... and the patient has not answered that wording
    next_session_start: datetime | None = None  # as ``portal_upcoming_sessions`` lists first
    homework_count: int = 0  # as ``portal_current_assignments`` counts them
    phq9_due: bool = False  # as ``portal_phq9_due`` says of the active course


# The home page's courses with what its cards ask of each, less the PHQ-9 rule (which depends
# on the moment): built once, as a class-based view's ``queryset`` is, and taken by each
# request through ``filter()``, which copies the query and shares the subqueries already
# resolved. Resolving them again for every request was most of the query's cost: in one
# process on PostgreSQL, 4.5 against 1.9-2.9 ms of CPU per read (alternating runs of 400).
_HOME_COURSES = (
    TreatmentCourse.objects.annotate(
        has_plan=Exists(
            RelapsePreventionPlan.objects.filter(
                clinic_id=OuterRef("clinic_id"), course=OuterRef("pk")
            )
        ),
        formulation_shared=shares_formulation(),
        formulation_awaiting=awaiting_answer(),
        homework_to_do=Coalesce(
            Subquery(
                Assignment.objects.filter(
                    clinic_id=OuterRef("clinic_id"),
                    course_id=OuterRef("pk"),
                    status=AssignmentStatus.ASSIGNED,
                )
                .order_by()
                .values("course_id")
                .annotate(count=Count("pk"))
                .values("count"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )
    .only("id", "status", "phase", "start_date", "course_type", "latest_phq9_at")
    .order_by("-start_date", "-id")
)


def portal_home(patient: Patient) -> PortalHome:
    """Everything the portal's home page shows, in two queries: the next session's start,
    then the patient's courses, each with whether it has a plan, shares its formulation, how
    much homework it has to do and whether its PHQ-9 is due before that session (the rule of
    ``sessions.measure_schedule``, read at the instant it names)."""
    now = timezone.now()
    tz = patient.clinic.tz
    next_start = _sessions_ahead(patient, now).values_list("scheduled_start", flat=True).first()
    due_at = phq9_due_instant(next_start, now)
    courses = list(
        _HOME_COURSES.filter(clinic_id=patient.clinic_id, patient_id=patient.pk).annotate(
            phq9_overdue=ExpressionWrapper(
                phq9_overdue_condition(now=due_at, today=timezone.localdate(due_at, tz)),
                output_field=BooleanField(),
            )
        )
    )
    latest = courses[0] if courses else None
    today = timezone.localdate(now, tz)
    return PortalHome(
        has_active_course=any(c.status == CourseStatus.ACTIVE for c in courses),
        has_plan=_plan_is_shown(latest) and latest.has_plan,
        has_course=latest is not None,
        formulation_shared=latest is not None and latest.formulation_shared,
        formulation_awaiting=latest is not None
        and latest.status == CourseStatus.ACTIVE
        and latest.formulation_awaiting,
        checkin_due=any(
            checkin.due
            for checkin in (checkin_now(c, today=today, tz=tz) for c in courses)
            if checkin is not None
        ),
        next_session_start=next_start,
        homework_count=sum(c.homework_to_do for c in courses),
        phq9_due=any(bool(c.phq9_overdue) and phq9_asks_before_sessions(c) for c in courses),
    )


def portal_phq9_due(patient: Patient, course: TreatmentCourse | None) -> bool:
    """Whether the patient's active ``course`` asks for a PHQ-9 before their next session
    (``sessions.measure_schedule``: the rule the clinic dashboard counts as overdue)."""
    return course is not None and phq9_due_before_next_session(course, tz=patient.clinic.tz)


@dataclass
class Progress:
    course: TreatmentCourse | None
    # The patient's own questionnaires of that course, oldest first: a corrected one counts
    # once, as its correction.
    measures: list[Measure]

    def of(self, instrument: str) -> list[Measure]:
        return [m for m in self.measures if m.instrument == instrument]


def portal_progress(patient: Patient) -> Progress:
    """The patient's PHQ-9, GAD-7 and WSAS scores of their latest course, filled in through the
    portal or in a session, in two queries whatever their number; a corrected questionnaire
    counts once, as its correction. Only the totals and bands: no answers, no risk fields."""
    course = (
        TreatmentCourse.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
        .only("id", "clinic_id", "patient_id", "start_date", "status", "ended_at")
        .order_by("-start_date", "-id")
        .first()
    )
    if course is None:
        return Progress(course=None, measures=[])
    measures = list(
        Measure.objects.filter(
            clinic_id=patient.clinic_id,
            course_id=course.pk,
            instrument__in=("phq9", "gad7", "wsas"),
            superseded_at__isnull=True,
        )
        .only("id", "instrument", "total", "severity", "taken_at")
        .order_by("taken_at", "id")
    )
    return Progress(course=course, measures=measures)


def portal_relapse_plan(patient: Patient) -> RelapsePreventionPlan | None:
    """The latest course's plan, once that course is in termination or completed: the course
    with its plan in one query, the people to turn to in a second."""
    course = (
        TreatmentCourse.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
        .select_related("relapse_plan")
        .only(
            "id",
            "phase",
            "status",
            "start_date",
            "relapse_plan__id",
            "relapse_plan__clinic_id",
            "relapse_plan__course_id",
            "relapse_plan__warning_signs",
            "relapse_plan__coping_strategies",
            "relapse_plan__if_symptoms_return",
        )
        .order_by("-start_date", "-id")
        .first()
    )
    if not _plan_is_shown(course):
        return None
    try:
        plan = course.relapse_plan
    except RelapsePreventionPlan.DoesNotExist:
        return None
    prefetch_related_objects(
        [plan],
        Prefetch(
            "supports",
            queryset=Relationship.objects.filter(removed_at__isnull=True).only(
                "id", "name", "kind"
            ),
        ),
    )
    return plan


def portal_latest_course(patient: Patient) -> TreatmentCourse | None:
    """The patient's latest course: what "What we agreed" and "About IPT" are about."""
    return (
        TreatmentCourse.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
        .order_by("-start_date", "-id")
        .first()
    )


@dataclass
class PortalAgreement:
    """What the patient and their therapist agreed, as the patient may read it."""

    course: TreatmentCourse | None
    share: FormulationShare | None = None  # the formulation in their words, when shared
    answer: FormulationAnswer | None = None  # their answer to that wording
    problem_areas: list[ProblemArea] = field(default_factory=list)  # each with live_goals
    next_session: TherapySession | None = None

    @property
    def can_answer(self) -> bool:
        return self.share is not None and self.course.status == CourseStatus.ACTIVE


def portal_agreement(patient: Patient) -> PortalAgreement:
    """The latest course's shared formulation (nothing while it is not shared), its problem
    areas with their goals and each goal's latest progress, and the next appointment. A fixed
    number of queries. The problem areas' clinical fields are not read; the people they name
    (who died, the other party) are the patient's own inventory."""
    course = portal_latest_course(patient)
    if course is None:
        return PortalAgreement(course=None)
    shared = shared_formulation(course)
    goals = defaultdict(list)
    for goal in Goal.objects.filter(
        clinic_id=patient.clinic_id, course=course, removed_at__isnull=True
    ).only("id", "problem_area_id", "text", "status", "progress", "last_reviewed_at"):
        goals[goal.problem_area_id].append(goal)
    areas = list(
        ProblemArea.objects.filter(
            clinic_id=patient.clinic_id, course=course, removed_at__isnull=True
        )
        .select_related("deceased", "other_party")
        .only(
            "id",
            "kind",
            "is_primary",
            "deceased",
            "deceased__name",
            "other_party",
            "other_party__name",
        )
    )
    for area in areas:
        area.live_goals = goals.get(area.pk, [])
    return PortalAgreement(
        course=course,
        share=shared.share,
        answer=shared.answer,
        problem_areas=areas,
        next_session=portal_upcoming_sessions(patient).first()
        if course.status == CourseStatus.ACTIVE
        else None,
    )


def portal_get_self_report(patient: Patient, measure_id) -> Measure:
    """One of the patient's own questionnaires (never a staff-entered one)."""
    try:
        return Measure.objects.get(
            clinic_id=patient.clinic_id,
            course__patient_id=patient.pk,
            entered_by_kind=EnteredBy.PATIENT,
            pk=int(measure_id),
        )
    except (Measure.DoesNotExist, ValueError, TypeError):
        raise Http404("No such questionnaire.") from None


# --- the therapist's side -------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    link: PortalLink
    expires: datetime | None
    state: str  # "live", "revoked", "expired"


def portal_links_for_patient(patient: Patient) -> list[LinkRow]:
    """Every link the patient has had, newest first, with when it stops working."""
    now = timezone.now()
    links = PortalLink.objects.filter(clinic_id=patient.clinic_id, patient=patient).select_related(
        "created_by"
    )
    latest_course = patient.courses.order_by("-start_date", "-id").first()
    rows = []
    for link in links:
        link.patient = patient
        expiry = portal_link_expiry(link, latest_course)
        if link.revoked_at is not None:
            state = "revoked"
        elif (expiry is not None and expiry <= now) or patient.status == "archived":
            state = "expired"
        else:
            state = "live"
        rows.append(LinkRow(link=link, expires=expiry, state=state))
    return rows


__all__ = [
    "LinkRow",
    "PortalAgreement",
    "PortalHome",
    "PortalHomework",
    "portal_active_course",
    "portal_agreement",
    "portal_current_assignments",
    "portal_get_assignment",
    "portal_get_homework_entry",
    "portal_get_self_report",
    "portal_get_upcoming_session",
    "portal_link_expiry",
    "portal_links_for_patient",
    "portal_home",
    "portal_homework",
    "portal_latest_course",
    "portal_phq9_due",
    "portal_progress",
    "portal_relapse_plan",
    "portal_upcoming_sessions",
]


def questionnaire_language_note(instrument: str, language: str | None = None) -> str:
    """The note a patient reads above a questionnaire shown in English although their
    language (``language``, by default the active one: the patient's in the portal) is
    another, because no validated translation of it is kept (``sessions.scoring``); "" when
    the questionnaire is in their language."""
    language = language or translation.get_language() or "en"
    if instrument_language(instrument, language).split("-")[0] == language.split("-")[0]:
        return ""
    with translation.override(language):
        return _(
            "This questionnaire is shown in English because its questions have been tested "
            "in English, and we do not yet have a tested version in your language. If a "
            "question is not clear, answer as best you can and tell your therapist at your "
            "next appointment."
        )
