"""Maintenance IPT (IPT-M): a course of its own, carrying on from a completed acute course.

It starts from the acute course's formulation, its problem areas (copied, with the goals the
clinician chooses to keep working on) and its relapse-prevention plan, under a contract of 6
to 36 sessions, monthly by default (``TreatmentCourse.clean``). Its phases are maintenance,
then the ending (the manual's termination), then completed (``MAINTENANCE_PHASE_ORDER``).

Between sessions the patient is asked for a PHQ-9 once a month (a check-in: the day of the
course's start in each month after it; ``checkin_now``); a booster session is added when a
warning sign of the plan comes back (``maintenance_booster_record``, called by the sessions
layer, which books the session). The fidelity flags say where the course strays from the
maintenance contract (``maintenance_flags``).
"""

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.editing import save_versioned
from patients.models import Patient, PatientStatus

from .models import (
    PLANNED_SESSIONS,
    CourseStatus,
    CourseType,
    DisputeStageEntry,
    Frequency,
    Goal,
    GoalStatus,
    MaintenanceBooster,
    Phase,
    ProblemArea,
    RelapsePreventionPlan,
    TransitionKind,
    TreatmentCourse,
)
from .services import ONE_ACTIVE_COURSE, PROBLEM_AREA_FIELDS, _transition

MIN_SESSIONS, MAX_SESSIONS = PLANNED_SESSIONS[CourseType.MAINTENANCE]
# A PHQ-9 taken in the week before a check-in's day (at a session, say) answers it.
CHECKIN_EARLY = timedelta(days=7)
# An unanswered check-in is flagged once it has waited this long.
CHECKIN_GRACE = timedelta(days=7)
# The ending (termination) takes the contract's last two sessions.
ENDING_SESSIONS = 2
# Goals carried over unless the clinician says otherwise: those not yet achieved.
GOALS_KEPT_BY_DEFAULT = (GoalStatus.OPEN, GoalStatus.PARTLY, GoalStatus.NOT_ACHIEVED)
NO_PLAN = (
    "The course has no relapse-prevention plan: write it first. Maintenance IPT works from "
    "its warning signs."
)


# --- starting a maintenance course ---------------------------------------------------------


def maintenance_refusal(course: TreatmentCourse) -> str:
    """Why a maintenance course cannot start from ``course`` now (empty: it can). Reads
    whether the patient has an active course and whether the course has a plan."""
    if course.course_type != CourseType.ACUTE:
        return "Maintenance IPT starts from a completed course of IPT."
    if course.status == CourseStatus.DROPPED_OUT:
        return "This course ended as dropped out: maintenance IPT follows a completed course."
    if course.status != CourseStatus.COMPLETED:
        return "Complete this course first: maintenance IPT carries on from a completed course."
    if TreatmentCourse.objects.filter(
        clinic_id=course.clinic_id, patient_id=course.patient_id, status=CourseStatus.ACTIVE
    ).exists():
        return ONE_ACTIVE_COURSE
    if not RelapsePreventionPlan.objects.filter(clinic_id=course.clinic_id, course=course).exists():
        return NO_PLAN
    return ""


def carried_goals(course: TreatmentCourse) -> list[Goal]:
    """The acute course's live goals, each with ``kept_by_default`` (not yet achieved)."""
    goals = list(
        Goal.objects.filter(
            clinic_id=course.clinic_id, course=course, removed_at__isnull=True
        ).select_related("problem_area")
    )
    for goal in goals:
        goal.kept_by_default = goal.status in GOALS_KEPT_BY_DEFAULT
    return goals


@transaction.atomic
def maintenance_course_start(
    *,
    course: TreatmentCourse,
    by,
    start_date: date,
    planned_sessions: int = 12,
    frequency: str = Frequency.MONTHLY,
    session_minutes: int | None = None,
    contract_agreed_on: date | None = None,
    goal_ids=(),
    request=None,
) -> TreatmentCourse:
    """Start maintenance IPT from ``course``, a completed acute course of the patient's, in
    its maintenance phase: the formulation, every live problem area (a role dispute with its
    stage as it stands, the first point of its history here) and the relapse-prevention plan
    copied; of the goals, those named in ``goal_ids`` (live goals of ``course``), open again
    with their progress. One active course per patient holds (refused, on a race by the
    database, with the usual message)."""
    patient = Patient.objects.select_for_update().get(pk=course.patient_id)
    acute = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
    if patient.status == PatientStatus.ARCHIVED:
        raise ValidationError("An archived patient cannot start a course.")
    refusal = maintenance_refusal(acute)
    if refusal:
        raise ValidationError(refusal)
    tz = patient.clinic.tz
    ended_on = timezone.localdate(acute.ended_at, tz) if acute.ended_at else acute.start_date
    if start_date < ended_on:
        raise ValidationError(
            {
                "start_date": "Maintenance starts once the course it carries on from has ended "
                f"({ended_on.day} {ended_on:%b %Y})."
            }
        )
    goals = {goal.pk: goal for goal in carried_goals(acute)}
    goal_ids = {int(goal_id) for goal_id in goal_ids}
    if goal_ids - set(goals):
        raise ValidationError({"goals": "Choose goals of the course it carries on from."})
    now = timezone.now()
    maintenance = TreatmentCourse(
        clinic_id=acute.clinic_id,
        patient=patient,
        therapist_id=patient.primary_therapist_id,
        course_type=CourseType.MAINTENANCE,
        maintenance_of=acute,
        phase=Phase.MAINTENANCE,
        phase_started_at=now,
        start_date=start_date,
        planned_sessions=planned_sessions,
        frequency=frequency,
        session_minutes=session_minutes or acute.session_minutes,
        contract_agreed_on=contract_agreed_on,
        target_diagnosis=acute.target_diagnosis,
        formulation=acute.formulation,
        formulation_agreed_on=acute.formulation_agreed_on,
        medication_considered=acute.medication_considered,
        referral_considered=acute.referral_considered,
        medication_referral_notes=acute.medication_referral_notes,
    )
    maintenance.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            maintenance.save()
    except IntegrityError as exc:
        raise ValidationError(ONE_ACTIVE_COURSE) from exc
    if patient.status == PatientStatus.DISCHARGED:
        # As for any new course: a discharged patient starting one is back under active care.
        patient.status = PatientStatus.ACTIVE
        save_versioned(patient, expected_version=None, fields=["status"])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=patient.clinic_id,
            actor=by,
            patient_id=patient.pk,
            target=patient,
            summary="Patient active again: a maintenance course started",
            changes={"status": [PatientStatus.DISCHARGED, PatientStatus.ACTIVE]},
            request=request,
        )
    areas = _copy_problem_areas(
        acute, maintenance, by=by, now=now, today=timezone.localdate(now, tz)
    )
    kept = [goals[goal_id] for goal_id in sorted(goal_ids)]
    Goal.objects.bulk_create(
        Goal(
            clinic_id=maintenance.clinic_id,
            course=maintenance,
            problem_area=areas[goal.problem_area_id],
            text=goal.text,
            status=GoalStatus.OPEN,
            progress=goal.progress,
        )
        for goal in kept
        if goal.problem_area_id in areas
    )
    plan = _copy_plan(acute, maintenance)
    _transition(
        maintenance,
        kind=TransitionKind.STARTED,
        from_phase="",
        to_phase=Phase.MAINTENANCE,
        by=by,
        at=now,
        reason=f"Maintenance of the course from {acute.start_date.isoformat()}",
    )
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=maintenance.clinic_id,
        actor=by,
        patient_id=patient.pk,
        target=maintenance,
        summary=f"Maintenance IPT started: {planned_sessions} sessions, "
        f"{maintenance.get_frequency_display().lower()}",
        changes={
            "maintenance_of": [None, acute.pk],
            "planned_sessions": [None, planned_sessions],
            "frequency": [None, frequency],
            "start_date": [None, start_date.isoformat()],
            "problem_areas_carried": [None, sorted(areas)],
            "goals_carried": [None, sorted(goal.pk for goal in kept)],
            "relapse_plan_carried": [None, plan.pk],
        },
        request=request,
    )
    return maintenance


def _copy_problem_areas(
    acute: TreatmentCourse, maintenance: TreatmentCourse, *, by, now: datetime, today: date
) -> dict[int, ProblemArea]:
    """Every live area of ``acute`` copied to ``maintenance``: the acute area's id -> copy."""
    copies = {}
    for area in ProblemArea.objects.filter(
        clinic_id=acute.clinic_id, course=acute, removed_at__isnull=True
    ).order_by("id"):
        copy = ProblemArea(
            clinic_id=maintenance.clinic_id,
            course=maintenance,
            **{name: getattr(area, name) for name in PROBLEM_AREA_FIELDS},
        )
        copy.save()
        copies[area.pk] = copy
        if copy.dispute_stage:
            # The area's stage is the latest of its history: the copy's history starts here.
            DisputeStageEntry.objects.create(
                clinic_id=copy.clinic_id,
                course=maintenance,
                problem_area=copy,
                stage=copy.dispute_stage,
                recorded_on=today,
                note="The stage when maintenance began.",
                by=by,
                at=now,
            )
    return copies


def _copy_plan(acute: TreatmentCourse, maintenance: TreatmentCourse) -> RelapsePreventionPlan:
    plan = RelapsePreventionPlan.objects.get(clinic_id=acute.clinic_id, course=acute)
    copy = RelapsePreventionPlan.objects.create(
        clinic_id=maintenance.clinic_id,
        course=maintenance,
        warning_signs=plan.warning_signs,
        coping_strategies=plan.coping_strategies,
        if_symptoms_return=plan.if_symptoms_return,
        maintenance_offered=True,
        maintenance_notes=plan.maintenance_notes,
    )
    copy.supports.set(plan.supports.filter(removed_at__isnull=True))
    return copy


# --- boosters --------------------------------------------------------------------------------


def warning_signs(plan: RelapsePreventionPlan | None) -> list[str]:
    """The plan's warning signs one by one: a line each, list marks left off."""
    if plan is None:
        return []
    signs = (
        re.sub(r"^\s*(?:[-*•·]|\d+[.)])\s*", "", line).strip()
        for line in plan.warning_signs.splitlines()
    )
    return [sign for sign in signs if sign]


def booster_refusal(course: TreatmentCourse) -> str:
    """Why no booster can be added to ``course`` (empty: one can)."""
    if course.course_type != CourseType.MAINTENANCE:
        return "Booster sessions belong to a maintenance IPT course."
    if course.status != CourseStatus.ACTIVE:
        return "This course has ended."
    return ""


def maintenance_booster_record(
    *,
    course: TreatmentCourse,
    session_id: int,
    warning_sign: str,
    note: str = "",
    by,
    request=None,
) -> MaintenanceBooster:
    """Record that the session ``session_id`` was added to ``course`` as a booster because
    ``warning_sign`` came back (empty: none was named, which the fidelity flags show). Call
    inside the transaction that books the session."""
    refusal = booster_refusal(course)
    if refusal:
        raise ValidationError(refusal)
    booster = MaintenanceBooster(
        clinic_id=course.clinic_id,
        course=course,
        session_id=session_id,
        warning_sign=(warning_sign or "").strip(),
        note=(note or "").strip(),
        by=by,
        at=timezone.now(),
    )
    booster.full_clean()
    booster.save()
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=booster,
        summary="Booster session added: " + (booster.warning_sign or "no warning sign recorded"),
        changes={"session": [None, session_id], "warning_sign": [None, booster.warning_sign]},
        request=request,
    )
    return booster


# --- the monthly check-in --------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class CheckIn:
    """This month's PHQ-9 check-in of a maintenance course."""

    day: date  # the day it was asked for (clinic time)
    number: int  # the first, second... month of the course
    answered: bool  # a PHQ-9 since ``CHECKIN_EARLY`` before ``day``

    @property
    def due(self) -> bool:
        return not self.answered


def checkin_now(course: TreatmentCourse, *, today: date, tz) -> CheckIn | None:
    """The check-in of the month ``today`` (clinic time, ``tz``) falls in, for an active
    maintenance course; None in its first month and for any other course. Reads the
    course's kept latest PHQ-9 (``latest_phq9_at``), whoever entered it."""
    if course.course_type != CourseType.MAINTENANCE or course.status != CourseStatus.ACTIVE:
        return None
    start = course.start_date
    months = (today.year - start.year) * 12 + today.month - start.month
    if add_months(start, months) > today:
        months -= 1
    if months < 1:
        return None
    day = add_months(start, months)
    latest = course.latest_phq9_at
    answered = latest is not None and timezone.localdate(latest, tz) >= day - CHECKIN_EARLY
    return CheckIn(day=day, number=months, answered=answered)


def checkin_at(day: date, tz, at_hour: int = 9) -> datetime:
    """When a check-in's notice is meant to go: ``at_hour`` on its day, clinic time."""
    return datetime(day.year, day.month, day.day, at_hour, tzinfo=tz)


def booster_session_ids(course: TreatmentCourse) -> set[int]:
    """The sessions booked as boosters of a maintenance course (none for an acute one, and no
    query): they come on top of the contract, so they take no number of it."""
    if not course.is_maintenance:
        return set()
    return set(
        MaintenanceBooster.objects.filter(
            clinic_id=course.clinic_id, course=course, session_id__isnull=False
        ).values_list("session_id", flat=True)
    )


# --- fidelity flags and exit criteria --------------------------------------------------------


def maintenance_flags(
    course: TreatmentCourse, *, boosters: int, unnamed_boosters: int, today: date, tz
) -> list[tuple[str, str]]:
    """(kind, text) for each way ``course`` strays from its maintenance contract: this
    month's PHQ-9 missing (a week after it was asked for), boosters added without the warning
    sign that brought them, a contract that comes to more than 36 sessions with its
    boosters. ``boosters``: the course's boosters; ``unnamed_boosters``: those without a
    warning sign."""
    if course.course_type != CourseType.MAINTENANCE or course.status != CourseStatus.ACTIVE:
        return []
    flags = []
    checkin = checkin_now(course, today=today, tz=tz)
    if checkin is not None and checkin.due and today >= checkin.day + CHECKIN_GRACE:
        flags.append(("measure", f"No PHQ-9 this month (asked for on {_day(checkin.day)})"))
    if unnamed_boosters:
        flags.append(
            (
                "booster",
                f"{unnamed_boosters} booster{'s' if unnamed_boosters != 1 else ''} without a "
                "warning sign recorded",
            )
        )
    total = max(course.planned_sessions + boosters, course.sessions_attended)
    if total > MAX_SESSIONS:
        flags.append(
            ("contract", f"Contract over {MAX_SESSIONS} sessions: {total} with its boosters")
        )
    return flags


def maintenance_exit_checklist(course: TreatmentCourse) -> list[tuple[str, bool]]:
    """What leaving the maintenance phase for the ending asks, each with whether it is met:
    the contract nearly held (the ending takes its last sessions) and this month's PHQ-9."""
    held, planned = course.sessions_attended, course.planned_sessions
    tz = course.clinic.tz
    checkin = checkin_now(course, today=timezone.localdate(timezone=tz), tz=tz)
    return [
        (
            f"The contract's last {ENDING_SESSIONS} sessions are reached ({held} of {planned} "
            "held)",
            held >= planned - ENDING_SESSIONS,
        ),
        (
            "This month's PHQ-9 check-in is answered"
            if checkin is not None
            else "No PHQ-9 check-in asked for yet (the first comes a month after the start)",
            checkin is None or checkin.answered,
        ),
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# --- the course page -------------------------------------------------------------------------


@dataclass
class MaintenancePanel:
    """What the course page shows of a maintenance course."""

    acute: TreatmentCourse | None
    boosters: list[MaintenanceBooster]
    checkin: CheckIn | None
    next_checkin: date | None
    flags: list[tuple[str, str]]
    can_add_booster: bool
    warning_signs: list[str] = field(default_factory=list)


def maintenance_panel(
    course: TreatmentCourse, *, plan: RelapsePreventionPlan | None
) -> MaintenancePanel:
    """The maintenance course's panel: where it came from, this month's check-in, its
    boosters and its fidelity flags. Two queries."""
    tz = course.clinic.tz
    today = timezone.localdate(timezone=tz)
    boosters = list(
        MaintenanceBooster.objects.filter(clinic_id=course.clinic_id, course=course).select_related(
            "by"
        )
    )
    acute = (
        TreatmentCourse.objects.filter(
            clinic_id=course.clinic_id, pk=course.maintenance_of_id
        ).first()
        if course.maintenance_of_id
        else None
    )
    checkin = checkin_now(course, today=today, tz=tz)
    active = course.status == CourseStatus.ACTIVE
    next_checkin = None
    if active:
        month = checkin.number + 1 if checkin else 1
        next_checkin = add_months(course.start_date, month)
    return MaintenancePanel(
        acute=acute,
        boosters=boosters,
        checkin=checkin,
        next_checkin=next_checkin,
        flags=maintenance_flags(
            course,
            boosters=len(boosters),
            unnamed_boosters=sum(1 for booster in boosters if not booster.warning_sign),
            today=today,
            tz=tz,
        ),
        can_add_booster=not booster_refusal(course),
        warning_signs=warning_signs(plan),
    )


def maintenance_page(course: TreatmentCourse, *, plan: RelapsePreventionPlan | None) -> dict:
    """The course page's maintenance context: the panel of a maintenance course; for a
    completed acute course, its maintenance courses and whether one can start now."""
    if course.course_type == CourseType.MAINTENANCE:
        return {"maintenance": maintenance_panel(course, plan=plan)}
    if course.status != CourseStatus.COMPLETED:
        return {}
    return {
        "maintenance_courses": list(
            TreatmentCourse.objects.filter(
                clinic_id=course.clinic_id, maintenance_of=course
            ).order_by("start_date", "id")
        ),
        "maintenance_refusal": maintenance_refusal(course),
    }
