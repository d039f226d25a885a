"""The IPT course and its four phases. The phase state machine lives here and only here:

    initial → social → problem_solving → termination → completed

Leaving a phase checks its exit criteria (``exit_criteria``); a clinician may go on
despite unmet criteria only with a written reason, which is recorded together with the
criteria that failed. Moving back needs a reason. A course may also end as dropped out.
Every change is a ``PhaseTransition`` row and an audit event.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record, diff_fields
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    FormPurpose,
    quoted,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)
from patients import endings
from patients.caseload_figures import figures_changed
from patients.models import Patient, PatientStatus, Relationship
from patients.services import portal_links_expire_after_course

from .models import (
    MAINTENANCE_PHASE_ORDER,
    PHASE_ORDER,
    CourseStatus,
    DisputeStage,
    DisputeStageEntry,
    EndingDecision,
    Frequency,
    Goal,
    GoalStatus,
    MidCourseReview,
    Phase,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TransitionKind,
    TreatmentCourse,
    phase_order,
)

COURSE_FIELDS = [
    "start_date",
    "planned_sessions",
    "frequency",
    "session_minutes",
    "contract_agreed_on",
    "target_diagnosis",
    "sick_role_note",
    "formulation",
    "formulation_agreed_on",
    "medication_considered",
    "referral_considered",
    "medication_referral_notes",
]
PROBLEM_AREA_FIELDS = [
    "kind",
    "is_primary",
    "deceased",
    "relationship_reconstructed",
    "mourning",
    "mourning_status",
    "anniversaries",
    "other_party",
    "dispute_stage",
    "non_reciprocal_expectations",
    "dispute_options",
    "old_role",
    "new_role",
    "transition_date",
    "old_role_losses",
    "old_role_gains",
    "new_role_losses",
    "new_role_gains",
    "new_role_skills",
    "new_role_supports",
    "social_isolation",
    "notes",
]
# The fields each kind of problem area keeps; the others are cleared on save.
KIND_FIELDS = {
    ProblemAreaKind.GRIEF: {
        "deceased",
        "relationship_reconstructed",
        "mourning",
        "mourning_status",
        "anniversaries",
    },
    ProblemAreaKind.ROLE_DISPUTE: {
        "other_party",
        "dispute_stage",
        "non_reciprocal_expectations",
        "dispute_options",
    },
    ProblemAreaKind.ROLE_TRANSITION: {
        "old_role",
        "new_role",
        "transition_date",
        "old_role_losses",
        "old_role_gains",
        "new_role_losses",
        "new_role_gains",
        "new_role_skills",
        "new_role_supports",
    },
    ProblemAreaKind.DEFICITS: {"social_isolation"},
}
GOAL_FIELDS = ["text", "status", "progress"]
# The goal form carries one-time keys bound to the problem area (ipt_clinic.submissions).
GOAL_FORM = FormPurpose("phases.goal")
PLAN_FIELDS = [
    "warning_signs",
    "coping_strategies",
    "if_symptoms_return",
    "maintenance_offered",
    "maintenance_notes",
]

# What the phase state machine changes on a course (each change bumps its version).
COURSE_STATE_FIELDS = ["phase", "phase_started_at", "status", "ended_at", "end_reason"]

ONE_ACTIVE_COURSE = "This patient already has an active IPT course: end it before starting another."


class TransitionRefused(ValidationError):
    """A phase change refused; ``unmet`` lists the exit criteria that failed."""

    def __init__(self, message: str, unmet: list[str] | None = None):
        self.unmet = unmet or []
        super().__init__([message, *self.unmet])


# --- the course and its contract ---------------------------------------------------------


def _lock_course(course: TreatmentCourse) -> TreatmentCourse:
    return TreatmentCourse.objects.select_for_update().select_related("patient").get(pk=course.pk)


def _transition(
    course: TreatmentCourse, *, kind: str, from_phase: str, to_phase: str, by, at, **extra
) -> PhaseTransition:
    # Every start, phase change and ending passes here: the dashboard's figures follow it.
    figures_changed(clinic_id=course.clinic_id, therapist_ids=[course.therapist_id])
    return PhaseTransition.objects.create(
        clinic_id=course.clinic_id,
        course=course,
        kind=kind,
        from_phase=from_phase,
        to_phase=to_phase,
        by=by,
        at=at,
        **extra,
    )


@transaction.atomic
def course_create(
    *,
    patient: Patient,
    by,
    start_date: date,
    planned_sessions: int = 16,
    frequency: str = Frequency.WEEKLY,
    session_minutes: int = 50,
    contract_agreed_on: date | None = None,
    target_diagnosis: str = "",
    sick_role_note: str = "",
    medication_considered: bool = False,
    referral_considered: bool = False,
    medication_referral_notes: str = "",
    request=None,
) -> TreatmentCourse:
    """Start a course in the initial phase. One active course per patient: refused (and on
    a race the database constraint refuses) with a clear message."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.status == PatientStatus.ARCHIVED:
        raise ValidationError("An archived patient cannot start a course.")
    if TreatmentCourse.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, status=CourseStatus.ACTIVE
    ).exists():
        raise ValidationError(ONE_ACTIVE_COURSE)
    now = timezone.now()
    course = TreatmentCourse(
        clinic_id=patient.clinic_id,
        patient=patient,
        therapist_id=patient.primary_therapist_id,
        phase=Phase.INITIAL,
        phase_started_at=now,
        start_date=start_date,
        planned_sessions=planned_sessions,
        frequency=frequency,
        session_minutes=session_minutes,
        contract_agreed_on=contract_agreed_on,
        target_diagnosis=target_diagnosis,
        sick_role_note=sick_role_note,
        medication_considered=medication_considered,
        referral_considered=referral_considered,
        medication_referral_notes=medication_referral_notes,
    )
    course.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError as exc:
        raise ValidationError(ONE_ACTIVE_COURSE) from exc
    if patient.status == PatientStatus.DISCHARGED:
        # A discharged patient starting a new course is back under active care.
        patient.status = PatientStatus.ACTIVE
        save_versioned(patient, expected_version=None, fields=["status"])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=patient.clinic_id,
            actor=by,
            patient_id=patient.pk,
            target=patient,
            summary="Patient active again: a new course started",
            changes={"status": [PatientStatus.DISCHARGED, PatientStatus.ACTIVE]},
            request=request,
        )
    _transition(
        course, kind=TransitionKind.STARTED, from_phase="", to_phase=Phase.INITIAL, by=by, at=now
    )
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=patient.pk,
        target=course,
        summary="IPT course started",
        changes=diff_fields(dict.fromkeys(COURSE_FIELDS), course, COURSE_FIELDS),
        request=request,
    )
    return course


@transaction.atomic
def course_update(
    *, course: TreatmentCourse, by, expected_version: int | None, request=None, **fields
) -> TreatmentCourse:
    """Change the contract, diagnosis, sick role or formulation (``COURSE_FIELDS``) if the
    course is still at ``expected_version`` (``None``: no check, for internal callers only);
    otherwise ``StaleEditError``, nothing written. A phase change bumps the version too."""
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise TypeError(f"course_update() cannot change {sorted(unknown)}")
    course = _lock_course(course)
    before = {name: getattr(course, name) for name in COURSE_FIELDS}
    for name, value in fields.items():
        setattr(course, name, value)
    changes = diff_fields(before, course, COURSE_FIELDS)
    if changes:
        course.full_clean(validate_constraints=False)
        save_versioned(course, expected_version=expected_version, fields=list(changes))
        # The start date and the planned sessions count in the dashboard's figures.
        figures_changed(clinic_id=course.clinic_id, therapist_ids=[course.therapist_id])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=course.patient_id,
            target=course,
            summary="Course changed: " + ", ".join(changes),
            changes=changes,
            request=request,
        )
    return course


# The treatment contract's parts: the initial-phase note shows them and writes them here
# through ``course_update`` (sessions.services.note_save), the course form shows the same.
CONTRACT_FIELDS = ["planned_sessions", "frequency", "session_minutes", "contract_agreed_on"]
CONTRACT_CRITERION = (
    "The treatment contract is agreed: number of sessions, frequency, length and the date agreed"
)


def contract_agreed(course: TreatmentCourse) -> bool:
    return course.contract_agreed_on is not None and all(
        getattr(course, name) for name in CONTRACT_FIELDS
    )


def contract_summary(course: TreatmentCourse) -> str:
    """The contract in one line, as a note records what was agreed at its session."""
    terms = (
        f"{course.planned_sessions} sessions, {course.get_frequency_display().lower()}, "
        f"{course.session_minutes} minutes each"
    )
    if course.contract_agreed_on is None:
        return f"{terms}; not agreed yet"
    agreed = course.contract_agreed_on
    return f"{terms}; agreed on {agreed.day} {agreed:%b} {agreed.year}"


# The initial assessment weighs medication and a referral elsewhere (severity, the
# patient's preference, risk) before a course of IPT alone goes on.
MEDICATION_REFERRAL_CRITERION = "Medication and a referral elsewhere have been considered"


def medication_and_referral_considered(course: TreatmentCourse) -> bool:
    return course.medication_considered and course.referral_considered


# --- the phase state machine -------------------------------------------------------------


def exit_checklist(
    course: TreatmentCourse,
    goals: list | None = None,
    *,
    problem_areas: list | None = None,
    has_plan: bool | None = None,
) -> list[tuple[str, bool]]:
    """Each exit criterion of the course's current phase, with whether it is met. What the
    caller has read already (the course page), so as not to read it again: ``goals``, the
    course's live goals; ``problem_areas``, its live problem areas; ``has_plan``, whether it
    has a relapse-prevention plan."""
    phase = course.phase
    if phase == Phase.INITIAL:
        return [
            ("A baseline PHQ-9 is recorded", course.baseline_phq9 is not None),
            (MEDICATION_REFERRAL_CRITERION, medication_and_referral_considered(course)),
        ]
    if phase == Phase.SOCIAL:
        has_person = Relationship.objects.filter(
            clinic_id=course.clinic_id, patient_id=course.patient_id, removed_at__isnull=True
        ).exists()
        has_area = (
            bool(problem_areas)
            if problem_areas is not None
            else ProblemArea.objects.filter(
                clinic_id=course.clinic_id, course=course, removed_at__isnull=True
            ).exists()
        )
        return [
            ("The interpersonal inventory holds at least one person", has_person),
            ("At least one problem area is chosen", has_area),
            ("The interpersonal formulation is written", bool(course.formulation.strip())),
            # The manual's order: the contract is agreed once the inventory and the
            # formulation say what the treatment is for.
            (CONTRACT_CRITERION, contract_agreed(course)),
        ]
    if phase == Phase.PROBLEM_SOLVING:
        if goals is None:
            goals = list(
                Goal.objects.filter(
                    clinic_id=course.clinic_id, course=course, removed_at__isnull=True
                ).only("pk", "status", "last_reviewed_at")
            )
        unreviewed = sum(
            1 for g in goals if g.status == GoalStatus.OPEN and g.last_reviewed_at is None
        )
        return [
            ("At least one goal is set", bool(goals)),
            (
                "Every open goal has been reviewed"
                + (f" ({unreviewed} not yet)" if unreviewed else ""),
                unreviewed == 0,
            ),
        ]
    if phase == Phase.TERMINATION:
        if has_plan is None:
            has_plan = RelapsePreventionPlan.objects.filter(course=course).exists()
        return [("A relapse-prevention plan is written", has_plan)]
    if phase == Phase.MAINTENANCE:
        from .maintenance import maintenance_exit_checklist  # it builds on this module

        return maintenance_exit_checklist(course)
    return []


def exit_criteria(course: TreatmentCourse) -> list[str]:
    """The unmet criteria for leaving the course's current phase (empty: free to go)."""
    return [label for label, met in exit_checklist(course) if not met]


def next_phase(phase: str) -> str | None:
    # Both orders end termination -> completed: the phase alone says which one it is in.
    order = MAINTENANCE_PHASE_ORDER if phase == Phase.MAINTENANCE else PHASE_ORDER
    index = order.index(phase)
    return order[index + 1] if index + 1 < len(order) else None


def _require_active(course: TreatmentCourse) -> None:
    if course.status != CourseStatus.ACTIVE:
        raise TransitionRefused(f"This course has ended ({course.get_status_display().lower()}).")


def _require_phase(course: TreatmentCourse, expected_phase: str | None) -> None:
    if expected_phase and course.phase != expected_phase:
        raise TransitionRefused(
            f"The course has already moved on: it is now in {course.get_phase_display()}."
        )


def _end_course(course: TreatmentCourse, *, status: str, at, reason: str = "") -> None:
    course.status = status
    course.ended_at = at
    if reason:
        course.end_reason = reason
    portal_links_expire_after_course(patient=course.patient, ended_at=at)


def _close_loop(course: TreatmentCourse, *, by, request, ending: str) -> None:
    # Future sessions, their reminders and the homework notices end with the course
    # (sessions registers the closer: see patients.endings).
    endings.close_loop(
        patient_id=course.patient_id,
        clinic_id=course.clinic_id,
        course_ids=[course.pk],
        by=by,
        request=request,
        ending=ending,
    )


def _audit_transition(course, *, by, from_phase, summary, request, extra_changes=None):
    changes = {"phase": [from_phase, course.phase]}
    changes.update(extra_changes or {})
    audit_record(
        action=AuditAction.TRANSITION,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=course,
        summary=summary,
        changes=changes,
        request=request,
    )


@transaction.atomic
def course_advance(
    *,
    course: TreatmentCourse,
    by,
    override_reason: str = "",
    expected_phase: str | None = None,
    request=None,
) -> PhaseTransition:
    """Move the course into its next phase (the last step completes it).

    Refused with ``TransitionRefused`` (listing the unmet criteria) unless every exit
    criterion is met or ``override_reason`` says why the clinician goes on regardless.
    ``expected_phase`` (the phase the clinician saw) makes a repeated or concurrent
    submission a refusal instead of a second step."""
    course = _lock_course(course)
    _require_active(course)
    _require_phase(course, expected_phase)
    to_phase = next_phase(course.phase)
    if to_phase is None:
        raise TransitionRefused("This course is already completed.")
    completion = completion_checklist(course) if to_phase == Phase.COMPLETED else []
    # A decided ending: no written reason overrides these (see ``completion_checklist``).
    missing = [label for label, met in completion if not met]
    if missing:
        raise TransitionRefused("The course cannot be completed yet:", missing)
    checklist = exit_checklist(course)
    unmet = [label for label, met in checklist if not met]
    override_reason = (override_reason or "").strip()
    if unmet and not override_reason:
        raise TransitionRefused(
            f"{course.get_phase_display()} cannot end yet. Meet these criteria or write a "
            "reason to go on regardless:",
            unmet,
        )
    from_phase = course.phase
    now = timezone.now()
    course.phase = to_phase
    course.phase_started_at = now
    if to_phase == Phase.COMPLETED:
        _end_course(course, status=CourseStatus.COMPLETED, at=now)
    save_versioned(course, expected_version=None, fields=COURSE_STATE_FIELDS)
    if to_phase == Phase.COMPLETED:
        _close_loop(course, by=by, request=request, ending="Course completed")
    transition = _transition(
        course,
        kind=TransitionKind.FORWARD,
        from_phase=from_phase,
        to_phase=to_phase,
        by=by,
        at=now,
        reason=override_reason,
        overridden=bool(unmet),
        failed_criteria=unmet,
        checklist=dict(checklist) | dict(completion),
    )
    _audit_transition(
        course,
        by=by,
        from_phase=from_phase,
        summary=f"Moved to {course.get_phase_display()}"
        + (f" overriding {len(unmet)} unmet criteria" if unmet else ""),
        request=request,
        extra_changes={"status": [CourseStatus.ACTIVE, course.status]}
        if course.status != CourseStatus.ACTIVE
        else None,
    )
    return transition


@transaction.atomic
def course_move_back(
    *,
    course: TreatmentCourse,
    by,
    reason: str,
    to_phase: str | None = None,
    expected_phase: str | None = None,
    request=None,
) -> PhaseTransition:
    """Move an active course back to an earlier phase (by default the one before), e.g. on
    relapse. A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused("Write why the course moves back.")
    course = _lock_course(course)
    _require_active(course)
    _require_phase(course, expected_phase)
    order = phase_order(course)
    index = order.index(course.phase)
    if index == 0:
        raise TransitionRefused("The course is in its first phase: there is nowhere to go back to.")
    to_phase = to_phase or order[index - 1]
    if to_phase not in order or order.index(to_phase) >= index:
        raise TransitionRefused("Choose an earlier phase to move back to.")
    from_phase = course.phase
    now = timezone.now()
    course.phase = to_phase
    course.phase_started_at = now
    save_versioned(course, expected_version=None, fields=COURSE_STATE_FIELDS)
    transition = _transition(
        course,
        kind=TransitionKind.BACK,
        from_phase=from_phase,
        to_phase=to_phase,
        by=by,
        at=now,
        reason=reason,
    )
    _audit_transition(
        course,
        by=by,
        from_phase=from_phase,
        summary=f"Moved back to {course.get_phase_display()}",
        request=request,
    )
    return transition


@transaction.atomic
def course_drop_out(*, course: TreatmentCourse, by, reason: str, request=None) -> PhaseTransition:
    """End an active course as dropped out. A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused("Write why the course ended early.")
    course = _lock_course(course)
    _require_active(course)
    now = timezone.now()
    _end_course(course, status=CourseStatus.DROPPED_OUT, at=now, reason=reason)
    save_versioned(course, expected_version=None, fields=COURSE_STATE_FIELDS)
    _close_loop(course, by=by, request=request, ending="Course ended: dropped out")
    transition = _transition(
        course,
        kind=TransitionKind.DROPPED_OUT,
        from_phase=course.phase,
        to_phase=course.phase,
        by=by,
        at=now,
        reason=reason,
    )
    _audit_transition(
        course,
        by=by,
        from_phase=course.phase,
        summary="Course ended: dropped out",
        request=request,
        extra_changes={"status": [CourseStatus.ACTIVE, CourseStatus.DROPPED_OUT]},
    )
    return transition


# --- problem areas, goals ----------------------------------------------------------------


def _check_people(course: TreatmentCourse, *people: Relationship | None) -> None:
    for person in people:
        if person is not None and (
            person.patient_id != course.patient_id or person.removed_at is not None
        ):
            raise ValidationError("Choose people from this patient's interpersonal inventory.")


def _apply_problem_area(area: ProblemArea, fields: dict) -> None:
    unknown = set(fields) - set(PROBLEM_AREA_FIELDS)
    if unknown:
        raise TypeError(f"problem area fields unknown: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(area, name, value)
    keep = KIND_FIELDS.get(area.kind, set())
    for name in set().union(*KIND_FIELDS.values()) - keep:
        field = ProblemArea._meta.get_field(name)
        setattr(area, name, None if field.null else "")
    errors = {}
    if area.kind == ProblemAreaKind.GRIEF:
        if not area.deceased_id:
            errors["deceased"] = "Choose who died from the inventory (a person marked as died)."
        elif not area.deceased.deceased:
            errors["deceased"] = (
                f"{area.deceased.name} is not marked as died in the inventory: mark them so "
                "there (with the date), or choose the person who died."
            )
    if area.kind == ProblemAreaKind.ROLE_DISPUTE:
        if not area.other_party_id:
            errors["other_party"] = "Choose the other party from the inventory."
        elif area.other_party.deceased:
            errors["other_party"] = (
                f"{area.other_party.name} has died: a role dispute is with a living person "
                "(the loss of someone is grief)."
            )
        if not area.dispute_stage:
            errors["dispute_stage"] = "Choose the stage of the dispute."
    if area.kind == ProblemAreaKind.ROLE_TRANSITION and not (area.old_role and area.new_role):
        errors["new_role"] = "Describe the old role and the new one."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def problem_area_create(*, course: TreatmentCourse, by, request=None, **fields) -> ProblemArea:
    course = _lock_course(course)
    area = ProblemArea(clinic_id=course.clinic_id, course=course)
    _apply_problem_area(area, fields)
    _check_people(course, area.deceased, area.other_party)
    area.full_clean()
    area.save()
    if area.dispute_stage:
        _stage_entry(
            area, stage=area.dispute_stage, by=by, note="The stage when the area was agreed."
        )
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=area,
        summary=f"Problem area added: {area.get_kind_display()}",
        changes=diff_fields(dict.fromkeys(PROBLEM_AREA_FIELDS), area, PROBLEM_AREA_FIELDS),
        request=request,
    )
    return area


@transaction.atomic
def problem_area_update(
    *, problem_area: ProblemArea, by, expected_version: int | None, request=None, **fields
) -> ProblemArea:
    """Change a problem area if still at ``expected_version`` (``None``: no check, for
    internal callers only); otherwise ``StaleEditError``, nothing written."""
    area = ProblemArea.objects.select_for_update().select_related("course").get(pk=problem_area.pk)
    if area.removed_at is not None:
        raise ValidationError("This problem area was removed.")
    before = {name: getattr(area, name) for name in PROBLEM_AREA_FIELDS}
    _apply_problem_area(area, fields)
    # Only a newly named person must be in the current circle; one named before may since
    # have been removed from it without making the area uneditable.
    _check_people(
        area.course,
        *(
            getattr(area, name)
            for name in ("deceased", "other_party")
            if getattr(area, name) != before[name]
        ),
    )
    changes = diff_fields(before, area, PROBLEM_AREA_FIELDS)
    if changes:
        area.full_clean()
        save_versioned(area, expected_version=expected_version, fields=list(changes))
        if "dispute_stage" in changes and area.dispute_stage:
            # Every change of the stage is a point of its history, whichever form made it.
            _stage_entry(area, stage=area.dispute_stage, by=by)
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=area.clinic_id,
            actor=by,
            patient_id=area.course.patient_id,
            target=area,
            summary=f"Problem area changed: {area.get_kind_display()}",
            changes=changes,
            request=request,
        )
    return area


@transaction.atomic
def problem_area_remove(*, problem_area: ProblemArea, by, request=None) -> ProblemArea:
    area = ProblemArea.objects.select_for_update().select_related("course").get(pk=problem_area.pk)
    if area.removed_at is None:
        area.removed_at = timezone.now()
        save_versioned(area, expected_version=None, fields=["removed_at"])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=area.clinic_id,
            actor=by,
            patient_id=area.course.patient_id,
            target=area,
            summary=f"Problem area removed: {area.get_kind_display()}",
            changes={"removed_at": [None, area.removed_at.isoformat()]},
            request=request,
        )
    return area


@transaction.atomic
def goal_create(
    *,
    problem_area: ProblemArea,
    by,
    text: str,
    status: str = GoalStatus.OPEN,
    progress: int = 0,
    request=None,
    form_key: str | None = None,
) -> Goal:
    """Set a goal for a problem area.

    ``form_key`` is the one-time key of the form sent (``GOAL_FORM``), under the rule of
    ``ipt_clinic.submissions``: sent again with the same goal it raises ``AlreadySaved`` with
    the goal first set, with another ``SubmissionRefused`` (nothing saved). Internal callers
    leave it out."""
    claim = submission_claim(
        binding=GOAL_FORM.bind(problem_area),
        key=form_key,
        content={"text": text, "status": status, "progress": progress},
        by=by,
    )
    if claim.repeated:
        submission_repeat_answer(claim, Goal, describe=lambda goal: f"the goal {quoted(goal.text)}")
    if problem_area.removed_at is not None:
        raise ValidationError("This problem area was removed.")
    goal = Goal(
        clinic_id=problem_area.clinic_id,
        course_id=problem_area.course_id,
        problem_area=problem_area,
        text=text,
        status=status,
        progress=progress,
    )
    goal.full_clean()
    goal.save()
    submission_done(claim, goal)
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=goal.clinic_id,
        actor=by,
        patient_id=problem_area.course.patient_id,
        target=goal,
        summary="Goal set",
        changes=diff_fields(dict.fromkeys(GOAL_FIELDS), goal, GOAL_FIELDS),
        request=request,
    )
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, by, expected_version: int | None, request=None, **fields) -> Goal:
    """Change a goal if still at ``expected_version`` (``None``: no check, for internal
    callers only); otherwise ``StaleEditError``, nothing written. A goal reviewed in a
    session's note bumps the version too."""
    unknown = set(fields) - set(GOAL_FIELDS)
    if unknown:
        raise TypeError(f"goal_update() cannot change {sorted(unknown)}")
    goal = Goal.objects.select_for_update().select_related("course").get(pk=goal.pk)
    if goal.removed_at is not None:
        raise ValidationError("This goal was removed.")
    before = {name: getattr(goal, name) for name in GOAL_FIELDS}
    for name, value in fields.items():
        setattr(goal, name, value)
    changes = diff_fields(before, goal, GOAL_FIELDS)
    if changes:
        goal.full_clean()
        save_versioned(goal, expected_version=expected_version, fields=list(changes))
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=goal.clinic_id,
            actor=by,
            patient_id=goal.course.patient_id,
            target=goal,
            summary="Goal changed",
            changes=changes,
            request=request,
        )
    return goal


@transaction.atomic
def goal_remove(*, goal: Goal, by, request=None) -> Goal:
    goal = Goal.objects.select_for_update().select_related("course").get(pk=goal.pk)
    if goal.removed_at is None:
        goal.removed_at = timezone.now()
        save_versioned(goal, expected_version=None, fields=["removed_at"])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=goal.clinic_id,
            actor=by,
            patient_id=goal.course.patient_id,
            target=goal,
            summary="Goal removed",
            changes={"removed_at": [None, goal.removed_at.isoformat()]},
            request=request,
        )
    return goal


# --- the relapse-prevention plan ---------------------------------------------------------


@transaction.atomic
def relapse_plan_save(
    *,
    course: TreatmentCourse,
    by,
    expected_version: int | None,
    supports=(),
    request=None,
    **fields,
) -> RelapsePreventionPlan:
    """Write or rewrite the course's relapse-prevention plan. ``supports`` are people of
    this patient's inventory.

    ``expected_version`` is the plan's version the form was opened at, 0 when there was no
    plan yet (``None``: no check, for internal callers only). A rewrite of a plan saved by
    someone else in between is refused with ``StaleEditError``, nothing written."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"relapse_plan_save() got unknown fields {sorted(unknown)}")
    course = _lock_course(course)
    supports = list(supports)
    for person in supports:
        if person.patient_id != course.patient_id:
            raise ValidationError({"supports": "Choose people from this patient's inventory."})
        if person.deceased:
            raise ValidationError({"supports": f"{person.name} has died: choose living people."})
    plan = RelapsePreventionPlan.objects.filter(course=course).first()
    created = plan is None
    if created:
        plan = RelapsePreventionPlan(clinic_id=course.clinic_id, course=course)
        before: dict = dict.fromkeys(PLAN_FIELDS)
        before_supports: list[int] = []
    else:
        before = {name: getattr(plan, name) for name in PLAN_FIELDS}
        before_supports = sorted(plan.supports.values_list("pk", flat=True))
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    changes = diff_fields(before, plan, PLAN_FIELDS)
    after_supports = sorted(p.pk for p in supports)
    if created:
        # Two first writes of one plan run one after the other under the course's lock.
        plan.save()
    elif changes or after_supports != before_supports:
        save_versioned(plan, expected_version=expected_version, fields=list(changes))
    if after_supports != before_supports:
        plan.supports.set(supports)
        changes["supports"] = [before_supports, after_supports]
    if created or changes:
        audit_record(
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=course.patient_id,
            target=plan,
            summary="Relapse-prevention plan " + ("written" if created else "changed"),
            changes=changes,
            request=request,
        )
    return plan


def deficits_warning(areas: list[ProblemArea]) -> str:
    """The manual's caution, when interpersonal deficits sit beside another problem area
    (``areas``: the course's live areas, as they would stand); empty otherwise."""
    kinds = {area.kind for area in areas}
    others = kinds - {ProblemAreaKind.DEFICITS}
    if ProblemAreaKind.DEFICITS not in kinds or not others:
        return ""
    named = ", ".join(sorted(ProblemAreaKind(kind).label.lower() for kind in others))
    return (
        "Interpersonal deficits is the focus the manual keeps for when no other problem area "
        f"applies; this course also has {named}. Consider working on that instead."
    )


# --- a role dispute's stage, session by session --------------------------------------------


def _stage_entry(
    area: ProblemArea,
    *,
    stage: str,
    by,
    recorded_on: date | None = None,
    note: str = "",
    session_id: int | None = None,
) -> DisputeStageEntry:
    now = timezone.now()
    return DisputeStageEntry.objects.create(
        clinic_id=area.clinic_id,
        course_id=area.course_id,
        problem_area=area,
        stage=stage,
        recorded_on=recorded_on or timezone.localdate(now, area.clinic.tz),
        session_id=session_id,
        note=note,
        by=by,
        at=now,
    )


@transaction.atomic
def dispute_stage_record(
    *,
    problem_area: ProblemArea,
    by,
    stage: str,
    recorded_on: date,
    note: str = "",
    session_id: int | None = None,
    request=None,
) -> DisputeStageEntry:
    """Record the stage of a role dispute at a session (``recorded_on``, and the session's id
    when a note records it). The area's ``dispute_stage`` becomes the stage of its latest
    entry by date, so a late entry for an earlier session does not overwrite the present."""
    area = (
        ProblemArea.objects.select_for_update()
        .select_related("course", "clinic")
        .get(pk=problem_area.pk)
    )
    if area.removed_at is not None or area.kind != ProblemAreaKind.ROLE_DISPUTE:
        raise ValidationError("The stage is recorded for a role dispute of the course.")
    if area.course.status != CourseStatus.ACTIVE:
        raise ValidationError("This course has ended: its dispute's history is closed.")
    errors = {}
    if stage not in DisputeStage.values:
        errors["stage"] = "Choose the stage of the dispute."
    today = timezone.localdate(timezone.now(), area.clinic.tz)
    if recorded_on > today:
        errors["recorded_on"] = "The stage is recorded for a session that has taken place."
    elif recorded_on < area.course.start_date:
        errors["recorded_on"] = "This date is before the course started."
    if errors:
        raise ValidationError(errors)
    entry = _stage_entry(
        area,
        stage=stage,
        by=by,
        recorded_on=recorded_on,
        note=(note or "").strip(),
        session_id=session_id,
    )
    latest = (
        DisputeStageEntry.objects.filter(clinic_id=area.clinic_id, problem_area=area)
        .order_by("-recorded_on", "-at", "-id")
        .values_list("stage", flat=True)
        .first()
    )
    changes = {"stage": [None, stage], "recorded_on": [None, recorded_on.isoformat()]}
    if latest != area.dispute_stage:
        changes["dispute_stage"] = [area.dispute_stage, latest]
        area.dispute_stage = latest
        save_versioned(area, expected_version=None, fields=["dispute_stage"])
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=area.clinic_id,
        actor=by,
        patient_id=area.course.patient_id,
        target=entry,
        summary=f"Role dispute's stage recorded: {entry.get_stage_display()}",
        changes=changes,
        request=request,
    )
    return entry


# --- the mid-course review -----------------------------------------------------------------


def halfway_session(course: TreatmentCourse) -> int:
    """The contract's halfway session: half the planned sessions, rounded up."""
    return (course.planned_sessions + 1) // 2


class ReviewState:
    NOT_DUE = "not_due"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"  # the course reached termination without one: no longer asked for
    DONE = "done"


def mid_course_review_state(course: TreatmentCourse, *, reviewed: bool) -> str:
    """Due from the halfway session, overdue once a session after it is held without one.
    Read from the course alone (its kept count of sessions held) and whether it has a
    review; an ended course has nothing due."""
    if reviewed:
        return ReviewState.DONE
    if course.status != CourseStatus.ACTIVE or course.is_maintenance:
        # Maintenance IPT reviews itself month by month (phases.maintenance), not halfway.
        return ReviewState.NOT_DUE
    if course.phase == Phase.TERMINATION:
        # The ending has begun: the review's questions (keep or change the focus, plan the
        # sessions left) are the ending's now. Said on the course page, flagged nowhere.
        return ReviewState.MISSED
    held, halfway = course.sessions_attended, halfway_session(course)
    if held > halfway:
        return ReviewState.OVERDUE
    if held == halfway:
        return ReviewState.DUE
    return ReviewState.NOT_DUE


@transaction.atomic
def mid_course_review_create(
    *,
    course: TreatmentCourse,
    by,
    goals_progress: str,
    focus: str,
    focus_reason: str,
    plan: str,
    session_id: int | None = None,
    request=None,
) -> MidCourseReview:
    """Record the course's mid-course review with the scores and goals as they stand now.
    One per course: a second is refused."""
    course = _lock_course(course)
    if course.status != CourseStatus.ACTIVE:
        raise ValidationError("This course has ended.")
    if MidCourseReview.objects.filter(clinic_id=course.clinic_id, course=course).exists():
        raise ValidationError("This course's mid-course review is already recorded.")
    goals = Goal.objects.filter(
        clinic_id=course.clinic_id, course=course, removed_at__isnull=True
    ).order_by("id")
    review = MidCourseReview(
        clinic_id=course.clinic_id,
        course=course,
        session_id=session_id,
        sessions_held=course.sessions_attended,
        planned_sessions=course.planned_sessions,
        baseline_phq9=course.baseline_phq9,
        phq9=course.latest_phq9,
        baseline_gad7=course.baseline_gad7,
        gad7=course.latest_gad7,
        goals=[
            {"id": goal.pk, "text": goal.text, "status": goal.status, "progress": goal.progress}
            for goal in goals
        ],
        goals_progress=(goals_progress or "").strip(),
        focus=focus,
        focus_reason=(focus_reason or "").strip(),
        plan=(plan or "").strip(),
        by=by,
        at=timezone.now(),
    )
    review.full_clean(validate_constraints=False)
    review.save()
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=review,
        summary=f"Mid-course review recorded: {review.get_focus_display().lower()}",
        changes={
            "focus": [None, focus],
            "sessions_held": [None, review.sessions_held],
            "phq9": [review.baseline_phq9, review.phq9],
        },
        request=request,
    )
    return review


# --- a decided ending ----------------------------------------------------------------------

# Response: the PHQ-9 fell by half or more from baseline; remission: it is below 5. The
# usual definitions in depression trials, and the ones the clinic reports.
RESPONSE_FALL = 0.5
REMISSION_BELOW = 5
RECENT_PHQ9 = timedelta(days=14)
RECENT_PHQ9_CRITERION = "A PHQ-9 from the last 14 days"
GOAL_OUTCOMES_CRITERION = (
    "Every goal has an outcome (achieved, partly achieved, not achieved or set aside)"
)
DECISION_CRITERION = "What comes next is decided (the PHQ-9 did not fall by half)"
MAINTENANCE_DECISION_CRITERION = "What comes next is decided (the PHQ-9 is not below 5)"
GOAL_OUTCOMES = [status for status in GoalStatus.values if status != GoalStatus.OPEN]


@dataclass(frozen=True)
class Outcome:
    """The course's PHQ-9 at its end against its baseline."""

    baseline: int | None
    latest: int | None
    latest_at: datetime | None
    recent: bool  # the latest is from the last 14 days
    fall: float | None  # the fall from baseline, as a fraction of it

    @property
    def response(self) -> bool | None:
        return None if self.fall is None else self.fall >= RESPONSE_FALL

    @property
    def remission(self) -> bool | None:
        return None if self.latest is None else self.latest < REMISSION_BELOW

    @property
    def fall_percent(self) -> int | None:
        return None if self.fall is None else round(self.fall * 100)


def course_outcome(course: TreatmentCourse, *, now: datetime | None = None) -> Outcome:
    now = now or timezone.now()
    baseline, latest = course.baseline_phq9, course.latest_phq9
    fall = None
    if baseline and latest is not None:
        fall = (baseline - latest) / baseline
    recent = course.latest_phq9_at is not None and course.latest_phq9_at >= now - RECENT_PHQ9
    return Outcome(baseline, latest, course.latest_phq9_at, recent, fall)


def decision_needed(course: TreatmentCourse, outcome: Outcome) -> bool:
    """Whether the ending must say what comes next: a course of IPT without a response (or
    without the scores to judge one); maintenance IPT, which keeps a response already won,
    when the patient is not in remission at its end."""
    if course.is_maintenance:
        return not outcome.remission
    return not outcome.response


def completion_checklist(
    course: TreatmentCourse, goals: list[Goal] | None = None, *, now: datetime | None = None
) -> list[tuple[str, bool]]:
    """What completing a course requires, beyond the termination phase's exit criteria, with
    whether each is met: a recent PHQ-9, an outcome for every goal, and for a patient
    without a response (or no baseline to judge one by) a decision about what comes next.
    No written reason overrides them: each is the clinician's to do at the last session."""
    if goals is None:
        goals = list(
            Goal.objects.filter(
                clinic_id=course.clinic_id, course=course, removed_at__isnull=True
            ).only("pk", "status")
        )
    outcome = course_outcome(course, now=now)
    checklist = [
        (RECENT_PHQ9_CRITERION, outcome.recent),
        (GOAL_OUTCOMES_CRITERION, all(goal.status != GoalStatus.OPEN for goal in goals)),
    ]
    if decision_needed(course, outcome):
        label = MAINTENANCE_DECISION_CRITERION if course.is_maintenance else DECISION_CRITERION
        checklist.append((label, bool(course.ending_decision)))
    return checklist


@transaction.atomic
def course_ending_record(
    *,
    course: TreatmentCourse,
    by,
    expected_version: int | None,
    goal_outcomes: dict[int, str],
    ending_decision: str = "",
    ending_decision_reason: str = "",
    request=None,
) -> TreatmentCourse:
    """At the end of the termination phase: each goal's outcome (``goal_outcomes``: goal id
    -> status, not "working on it") and what comes next. "None" needs a reason. The course
    must still be at ``expected_version`` (``StaleEditError`` otherwise, nothing written)."""
    course = _lock_course(course)
    if course.status != CourseStatus.ACTIVE or course.phase != Phase.TERMINATION:
        raise ValidationError("The ending is recorded in the termination phase.")
    ending_decision_reason = (ending_decision_reason or "").strip()
    errors = {}
    if ending_decision and ending_decision not in EndingDecision.values:
        errors["ending_decision"] = "Choose what comes next."
    if ending_decision == EndingDecision.NONE and not ending_decision_reason:
        errors["ending_decision_reason"] = "Write why nothing further is planned."
    goals = {
        goal.pk: goal
        for goal in Goal.objects.select_for_update().filter(
            clinic_id=course.clinic_id, course=course, removed_at__isnull=True
        )
    }
    for goal_id, status in goal_outcomes.items():
        if goal_id not in goals:
            errors[f"goal_{goal_id}"] = "This goal is not one of the course's."
        elif status not in GOAL_OUTCOMES:
            errors[f"goal_{goal_id}"] = "Choose the goal's outcome."
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(course, name) for name in ("ending_decision", "ending_decision_reason")}
    course.ending_decision = ending_decision
    course.ending_decision_reason = ending_decision_reason
    changes = diff_fields(before, course, list(before))
    if changes:
        save_versioned(course, expected_version=expected_version, fields=list(changes))
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=course.patient_id,
            target=course,
            summary="Ending decided: " + (course.get_ending_decision_display() or "none chosen"),
            changes=changes,
            request=request,
        )
    for goal_id, status in goal_outcomes.items():
        if goals[goal_id].status != status:
            goal_update(
                goal=goals[goal_id], by=by, expected_version=None, request=request, status=status
            )
    return course
