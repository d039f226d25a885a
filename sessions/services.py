"""Changes to therapy sessions, their notes and homework. Every function here is the one way
its change is made: it checks the current state, refuses a wrong one with a clear message,
writes the audit trail and calls the outbox hooks in the same transaction."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ipt_clinic.accounts.models import Clinic
from ipt_clinic.audit.services import AuditAction, audit_record, diff_fields
from ipt_clinic.dates import BOOKING_YEARS_AHEAD, last_booking_day
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    FormPurpose,
    quoted,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)
from notifications import outbox
from notifications.models import Notification
from patients.caseload_figures import figures_changed
from patients.models import Relationship
from phases.models import Goal, GoalStatus, Phase, ProblemArea, TreatmentCourse
from phases.services import contract_summary, course_update, dispute_stage_record

from . import notices
from .attendance import refresh_attendance_figures, refresh_attendance_week
from .models import (
    CANCELLED_STATUSES,
    LEGACY_TECHNIQUES,
    Assignment,
    AssignmentKind,
    AssignmentStatus,
    GoalReview,
    Measure,
    Modality,
    NoteAddendum,
    NoteRevision,
    RiskLevel,
    SessionNote,
    SessionStatus,
    Technique,
    TherapySession,
)

MIN_DURATION = 15
MAX_DURATION = 180

# Forms that add to a session or its note carry one-time keys (ipt_clinic.submissions): the
# homework form bound to the session, the addendum form to the signed note.
ASSIGNMENT_FORM = FormPurpose("therapy.assignment")
ADDENDUM_FORM = FormPurpose("therapy.addendum")

# The fields a note holds in each phase; "every phase" fields are added to all of them.
PHASE_FIELDS: dict[str, tuple[str, ...]] = {
    Phase.INITIAL: ("symptoms_reviewed", "sick_role", "contract"),
    Phase.SOCIAL: ("inventory_work", "formulation_discussed"),
    Phase.PROBLEM_SOLVING: (
        "focus_problem_area",
        "interpersonal_events",
        "techniques",
        "goal_progress",
    ),
    Phase.TERMINATION: ("gains_reviewed", "feelings_about_ending", "plan_progress"),
}
COMMON_FIELDS = ("homework_review", "narrative", "risk_level", "risk_notes")
# What an initial-phase note records of the course rather than typing it: the sick role and
# the contract are typed once, into the course's fields on the note form (``_save_contract``).
FROM_THE_COURSE = ("sick_role", "contract")
ALL_NOTE_FIELDS = tuple(f for fields in PHASE_FIELDS.values() for f in fields) + COMMON_FIELDS


def note_fields_for(phase: str) -> tuple[str, ...]:
    return PHASE_FIELDS.get(phase, PHASE_FIELDS[Phase.TERMINATION]) + COMMON_FIELDS


class StaleNoteError(ValidationError):
    """The note changed since the editor opened it; ``current`` is the note as stored now."""

    def __init__(self, current: SessionNote):
        self.current = current
        super().__init__(
            "This note was changed since you opened it (now version "
            f"{current.version}). Nothing was saved: compare both versions below."
        )


class NoteLockedError(ValidationError):
    def __init__(self):
        super().__init__("This note is signed and locked. Add an addendum instead.")


# --------------------------------------------------------------------------- scheduling


def _format_local(moment: datetime, tz) -> str:
    try:
        return timezone.localtime(moment, tz).strftime("%a %d %b %Y %H:%M")
    except OverflowError:  # a start typed at the edge of the calendar (year 1 or 9999)
        return f"{moment:%Y-%m-%d %H:%M} UTC"


def _check_slot(
    *,
    therapist,
    clinic,
    start: datetime,
    duration_minutes: int,
    exclude_session_id: int | None = None,
) -> None:
    """Refuse a start in the past or more than two years ahead (``ipt_clinic.dates``), or a
    slot overlapping another session of the therapist.

    Locks the therapist's user row first: two bookings for one therapist then run one after
    the other, so both cannot pass the overlap check. Call inside a transaction.
    """
    if timezone.is_naive(start):
        raise ValidationError("The start time must carry its time zone.")
    if not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        raise ValidationError(f"A session lasts between {MIN_DURATION} and {MAX_DURATION} minutes.")
    if start < timezone.now():
        raise ValidationError(
            f"{_format_local(start, clinic.tz)} is in the past: a new session must start later."
        )
    last_day = last_booking_day(timezone.localdate(timezone=clinic.tz))
    # The start's own date first: near the end of the calendar, converting it could overflow.
    if start.date() > last_day + timedelta(days=1) or (
        timezone.localdate(start, clinic.tz) > last_day
    ):
        raise ValidationError(
            f"A session is booked at most {BOOKING_YEARS_AHEAD} years ahead (until "
            f"{last_day:%d %b %Y}): check the date."
        )
    get_user_model().objects.select_for_update().get(pk=therapist.pk)
    end = start + timedelta(minutes=duration_minutes)
    candidates = (
        TherapySession.objects.filter(
            clinic_id=clinic.pk,
            therapist_id=therapist.pk,
            scheduled_start__gt=start - timedelta(minutes=MAX_DURATION),
            scheduled_start__lt=end,
        )
        .exclude(status__in=CANCELLED_STATUSES)
        .exclude(pk=exclude_session_id)
        .order_by("scheduled_start")
    )
    for other in candidates:
        other_end = other.scheduled_start + timedelta(minutes=other.duration_minutes)
        if other.scheduled_start < end and start < other_end:
            raise ValidationError(
                f"{therapist.display_name} already has a session from "
                f"{_format_local(other.scheduled_start, clinic.tz)} to "
                f"{timezone.localtime(other_end, clinic.tz):%H:%M}: choose another time."
            )


def calendar_clashes(*, therapist, sessions: list[TherapySession], tz) -> list[str]:
    """For each of ``sessions`` (of one clinic) that overlaps a session already in
    ``therapist``'s calendar, one sentence naming both, in the clinic's time ``tz``.

    Locks the therapist's user row first, as ``_check_slot`` does, so that no booking for
    them can slip in before the caller's transaction ends. Call inside a transaction."""
    if not sessions:
        return []
    get_user_model().objects.select_for_update().get(pk=therapist.pk)
    by_session = calendar_clashes_by_session(therapist=therapist, sessions=sessions, tz=tz)
    return [clash for clashes in by_session.values() for clash in clashes]


def calendar_clashes_by_session(
    *, therapist, sessions: list[TherapySession], tz
) -> dict[int, list[str]]:
    """``calendar_clashes`` read without a lock, by session: for a preview (a reassignment's),
    which the change itself checks again under the lock. Only sessions with a clash are keys,
    in the order of their starts; one query, whatever the number of sessions."""
    if not sessions:
        return {}
    ends = {s.pk: s.scheduled_start + timedelta(minutes=s.duration_minutes) for s in sessions}
    calendar = list(
        TherapySession.objects.filter(
            clinic_id=sessions[0].clinic_id,
            therapist_id=therapist.pk,
            scheduled_start__gt=min(s.scheduled_start for s in sessions)
            - timedelta(minutes=MAX_DURATION),
            scheduled_start__lt=max(ends.values()),
        )
        .exclude(status__in=CANCELLED_STATUSES)
        .exclude(pk__in=list(ends))
        .select_related("course__patient")
        .order_by("scheduled_start", "pk")
    )
    clashes: dict[int, list[str]] = {}
    for moving in sorted(sessions, key=lambda s: (s.scheduled_start, s.pk)):
        for other in calendar:
            other_end = other.scheduled_start + timedelta(minutes=other.duration_minutes)
            if other.scheduled_start < ends[moving.pk] and moving.scheduled_start < other_end:
                clashes.setdefault(moving.pk, []).append(
                    f"{_format_local(moving.scheduled_start, tz)} to "
                    f"{timezone.localtime(ends[moving.pk], tz):%H:%M}: "
                    f"{therapist.display_name} already sees {other.course.patient.full_name} "
                    f"from {_format_local(other.scheduled_start, tz)} to "
                    f"{timezone.localtime(other_end, tz):%H:%M}."
                )
    return clashes


def session_book(
    *,
    course: TreatmentCourse,
    start: datetime,
    duration_minutes: int,
    modality: str,
    by,
    request=None,
) -> TherapySession:
    """Book a session of ``course`` with its therapist; ``start`` is aware (stored in UTC)."""
    if modality not in Modality.values:
        raise ValidationError("Choose in person, video or phone.")
    with transaction.atomic():
        course = _bookable_course(course)
        return _book(
            course=course,
            start=start,
            duration_minutes=duration_minutes,
            modality=modality,
            by=by,
            request=request,
        )


def session_series_book(
    *,
    course: TreatmentCourse,
    starts: list[datetime],
    duration_minutes: int,
    modality: str,
    by,
    request=None,
) -> list[TherapySession]:
    """Book a session of ``course`` at each of ``starts`` (aware), all or none, in one
    transaction: each goes through the same checks, audit event and outbox hook as
    ``session_book``. A start that cannot be booked refuses the whole series, with one
    sentence per refused start naming its date (clinic time)."""
    if modality not in Modality.values:
        raise ValidationError("Choose in person, video or phone.")
    if not starts:
        raise ValidationError("There is no session to book: every date was skipped.")
    with transaction.atomic():
        course = _bookable_course(course)
        tz = course.clinic.tz
        booked, refusals = [], []
        for start in sorted(starts):
            try:
                booked.append(
                    _book(
                        course=course,
                        start=start,
                        duration_minutes=duration_minutes,
                        modality=modality,
                        by=by,
                        request=request,
                    )
                )
            except ValidationError as error:
                refusals += [f"{_format_local(start, tz)}: {m}" for m in error.messages]
        if refusals:
            # Raised inside the block: nothing of the series is kept, the sessions booked
            # above go with the transaction, and their outbox rows with them.
            raise ValidationError(refusals)
    return booked


def _bookable_course(course: TreatmentCourse) -> TreatmentCourse:
    course = TreatmentCourse.objects.select_related("clinic", "therapist").get(pk=course.pk)
    if course.status != "active":
        raise ValidationError("Sessions can only be booked on an active course.")
    return course


def _book(
    *, course: TreatmentCourse, start: datetime, duration_minutes: int, modality: str, by, request
) -> TherapySession:
    """One session booked: the slot checked, the row, its audit event and its reminder in the
    outbox. Call inside a transaction, with ``course`` read by ``_bookable_course``."""
    _check_slot(
        therapist=course.therapist,
        clinic=course.clinic,
        start=start,
        duration_minutes=duration_minutes,
    )
    session = TherapySession(
        clinic_id=course.clinic_id,
        course=course,
        therapist=course.therapist,
        scheduled_start=start,
        duration_minutes=duration_minutes,
        modality=modality,
        created_by=by,
    )
    session.full_clean()
    session.save()
    figures_changed(clinic_id=session.clinic_id, therapist_ids=[session.therapist_id])
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=session,
        summary=f"Session booked for {_format_local(start, course.clinic.tz)}",
        request=request,
    )
    notices.on_session_booked(session)
    return session


def session_reschedule(
    *,
    session: TherapySession,
    start: datetime,
    duration_minutes: int,
    modality: str,
    by,
    expected_version: int | None,
    request=None,
) -> TherapySession:
    """Move a scheduled session if it is still at ``expected_version`` (the version the form
    was opened at; ``None``: no check, for internal callers only). A move made by someone
    else in between is refused with ``StaleEditError``, nothing written; asking for what is
    stored already changes nothing."""
    if modality not in Modality.values:
        raise ValidationError("Choose in person, video or phone.")
    with transaction.atomic():
        session = TherapySession.objects.select_related("clinic", "course", "therapist").get(
            pk=session.pk
        )
        if session.status != SessionStatus.SCHEDULED:
            raise ValidationError(
                f"Only a scheduled session can be moved; this one is "
                f"{session.get_status_display().lower()}."
            )
        _check_slot(
            therapist=session.therapist,
            clinic=session.clinic,
            start=start,
            duration_minutes=duration_minutes,
            exclude_session_id=session.pk,
        )
        before = {
            "scheduled_start": session.scheduled_start,
            "duration_minutes": session.duration_minutes,
            "modality": session.modality,
        }
        session.scheduled_start = start
        session.duration_minutes = duration_minutes
        session.modality = modality
        changes = diff_fields(before, session, list(before))
        if not changes:
            return session
        session.full_clean(exclude=["created_by"])
        save_versioned(session, expected_version=expected_version, fields=list(changes))
        figures_changed(clinic_id=session.clinic_id, therapist_ids=[session.therapist_id])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=session.clinic_id,
            actor=by,
            patient_id=session.course.patient_id,
            target=session,
            summary=f"Session moved to {_format_local(start, session.clinic.tz)}",
            changes=changes,
            request=request,
        )
        notices.on_session_rescheduled(session)
    return session


def session_cancel(
    *, session: TherapySession, by, by_whom: str, reason: str, request=None
) -> TherapySession:
    """Cancel a scheduled session; ``by_whom`` is "patient" or "clinic"."""
    statuses = {
        "patient": SessionStatus.CANCELLED_PATIENT,
        "clinic": SessionStatus.CANCELLED_CLINIC,
    }
    if by_whom not in statuses:
        raise ValidationError("Say whether the patient or the clinic cancelled.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for the cancellation.")
    with transaction.atomic():
        session = TherapySession.objects.select_for_update().get(pk=session.pk)
        if session.status != SessionStatus.SCHEDULED:
            raise ValidationError(
                f"Only a scheduled session can be cancelled; this one is "
                f"{session.get_status_display().lower()}."
            )
        session.status = statuses[by_whom]
        session.cancel_reason = reason[:300]
        save_versioned(session, expected_version=None, fields=["status", "cancel_reason"])
        figures_changed(clinic_id=session.clinic_id, therapist_ids=[session.therapist_id])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=session.clinic_id,
            actor=by,
            patient_id=session.course.patient_id,
            target=session,
            summary=f"Session {session.get_status_display().lower()}",
            changes={"status": [SessionStatus.SCHEDULED.value, session.status]},
            request=request,
        )
        notices.on_session_cancelled(session)
    return session


def session_record_attendance(
    *, session: TherapySession, by, status: str, request=None
) -> TherapySession:
    """Attended or did not attend, once the session's start has passed. A cancelled session
    stays cancelled; attended and no-show may be corrected while the note is unsigned."""
    if status not in (SessionStatus.ATTENDED, SessionStatus.NO_SHOW):
        raise ValidationError("Record the session as attended or did not attend.")
    with transaction.atomic():
        # The course row is locked with the session (in the order note_start locks them):
        # its attendance figures are worked out again below.
        session = (
            TherapySession.objects.select_for_update().select_related("course").get(pk=session.pk)
        )
        if session.status in CANCELLED_STATUSES:
            raise ValidationError("This session was cancelled; attendance cannot be recorded.")
        if session.scheduled_start > timezone.now():
            raise ValidationError("Attendance can be recorded once the session has started.")
        note = SessionNote.objects.filter(session=session).first()
        if note is not None and note.signed_at is not None and session.status != status:
            raise ValidationError("The note is signed: attendance can no longer change.")
        old = session.status
        session.status = status
        save_versioned(session, expected_version=None, fields=["status"])
        if SessionStatus.ATTENDED in (old, status) and old != status:
            refresh_attendance_figures([session.course_id])
        if old != status:
            tz = Clinic.objects.get(pk=session.clinic_id).tz
            refresh_attendance_week(session, tz)
            figures_changed(
                clinic_id=session.clinic_id,
                therapist_ids=[session.therapist_id, session.course.therapist_id],
            )
            audit_record(
                action=AuditAction.UPDATE,
                clinic_id=session.clinic_id,
                actor=by,
                patient_id=session.course.patient_id,
                target=session,
                summary=f"Attendance: {session.get_status_display().lower()}",
                changes={"status": [old, status]},
                request=request,
            )
    return session


# --------------------------------------------------------------------------- notes


def _note_content(note: SessionNote) -> dict:
    content = {}
    for name in ALL_NOTE_FIELDS:
        if name == "focus_problem_area":
            content[name] = note.focus_problem_area_id
        else:
            content[name] = getattr(note, name)
    return content


def note_start(*, session: TherapySession, by, request=None) -> SessionNote:
    """The session's note, created if it has none yet. Its phase is the course's phase now,
    and the session records the same phase: the note's fields follow it."""
    with transaction.atomic():
        session = (
            TherapySession.objects.select_for_update().select_related("course").get(pk=session.pk)
        )
        existing = SessionNote.objects.filter(session=session).first()
        if existing is not None:
            return existing
        if session.status in CANCELLED_STATUSES:
            raise ValidationError("A cancelled session has no note.")
        phase = session.course.phase
        if phase == Phase.COMPLETED:
            phase = Phase.TERMINATION
        elif phase == Phase.MAINTENANCE:
            # A maintenance session keeps working on the problem areas: the middle phase's note.
            phase = Phase.PROBLEM_SOLVING
        note = SessionNote(
            clinic_id=session.clinic_id, session=session, phase=phase, version=1, updated_by=by
        )
        note.full_clean(exclude=["updated_by", "signed_by"])
        note.save()
        figures_changed(clinic_id=note.clinic_id, therapist_ids=[session.therapist_id])
        NoteRevision.objects.create(
            clinic_id=note.clinic_id,
            note=note,
            version=1,
            content=_note_content(note),
            saved_by=by,
            saved_at=timezone.now(),
        )
        if session.phase != phase:
            session.phase = phase
            save_versioned(session, expected_version=None, fields=["phase"])
        audit_record(
            action=AuditAction.CREATE,
            clinic_id=note.clinic_id,
            actor=by,
            patient_id=session.course.patient_id,
            target=note,
            summary=f"Note started ({note.get_phase_display()})",
            request=request,
        )
    return note


@dataclass
class GoalReviewInput:
    goal_id: int
    progress: int
    status: str
    comment: str = ""


@dataclass
class DisputeStageInput:
    """A role dispute's stage as recorded in a middle-phase note."""

    problem_area_id: int
    stage: str
    note: str = ""


def _clean_note_values(note: SessionNote, data: dict, *, draft: bool) -> dict:
    """The values of this note's phase fields, validated; other fields are ignored."""
    session = note.session
    values = {}
    errors = {}
    for name in note_fields_for(note.phase):
        if name not in data:
            continue
        value = data[name]
        if name == "focus_problem_area":
            if value in (None, ""):
                values["focus_problem_area"] = None
                continue
            if (
                isinstance(value, ProblemArea)
                and value.clinic_id == note.clinic_id
                and value.course_id == session.course_id
                and value.removed_at is None
            ):
                # Already read from this course's live problem areas (the note form's
                # choices): no need to look it up again.
                values["focus_problem_area"] = value
                continue
            area_id = value.pk if isinstance(value, ProblemArea) else value
            area = ProblemArea.objects.filter(
                clinic_id=note.clinic_id,
                course_id=session.course_id,
                pk=area_id,
                removed_at__isnull=True,
            ).first()
            if area is None:
                errors[name] = "Choose a problem area of this course."
            else:
                values["focus_problem_area"] = area
        elif name == "techniques":
            techniques = list(value or [])
            kept = set(note.techniques or [])  # a legacy technique already on the note stays
            unknown = [
                t
                for t in techniques
                if t not in Technique.values or (t in LEGACY_TECHNIQUES and t not in kept)
            ]
            if unknown:
                errors[name] = f"Unknown technique: {', '.join(map(str, unknown))}."
            values[name] = [t for t in Technique.values if t in techniques]
        elif name == "risk_level":
            if value and value not in RiskLevel.values:
                errors[name] = "Choose a risk level from the list."
            values[name] = value or ""
        else:
            values[name] = (value or "").strip() if isinstance(value, str) else (value or "")
    risk_level = values.get("risk_level", note.risk_level)
    if not draft and not risk_level:
        errors["risk_level"] = "Record the risk check: it is required on every note."
    if errors:
        raise ValidationError(errors)
    return values


def note_save(
    *,
    note: SessionNote,
    by,
    data: dict,
    expected_version: int,
    goal_reviews: list[GoalReviewInput] | None = None,
    homework_reviews: dict[int, str] | None = None,
    draft: bool = False,
    contract: dict | None = None,
    contract_version: int | None = None,
    dispute_stages: list[DisputeStageInput] | None = None,
    request=None,
) -> SessionNote:
    """Save the note's fields from ``data`` if it is still at ``expected_version``.

    Refuses with ``StaleNoteError`` (nothing written) when someone saved in between, and with
    ``NoteLockedError`` once the note is signed. Every save writes a ``NoteRevision``.
    ``goal_reviews`` record per-goal progress for this session; ``homework_reviews`` maps an
    open assignment's id to "done" or "not_done". ``draft`` (autosave) lets the risk check
    wait until the therapist saves for real.

    ``contract`` (an initial-phase note): the sick role and the contract as typed on the
    note, written to the course through ``phases.services.course_update`` if the course is
    still at ``contract_version`` (``StaleEditError`` otherwise, nothing written), and
    recorded on the note (``sick_role``, ``contract``) as they stand after the save: one
    record of the contract, the course's, and the note says what it was at this session.

    ``dispute_stages`` (a middle-phase note): the stage of each role dispute at this session,
    recorded on the dispute's history (``phases.services.dispute_stage_record``, with this
    session's id and date) in the same transaction, so the note and the history agree.
    """
    with transaction.atomic():
        note = SessionNote.objects.select_related("session__course").get(pk=note.pk)
        if note.signed_at is not None:
            raise NoteLockedError()
        if note.version != expected_version:
            raise StaleNoteError(note)
        values = _clean_note_values(note, data, draft=draft)
        if contract is not None:
            values.update(
                _save_contract(
                    note, contract, expected_version=contract_version, by=by, request=request
                )
            )
        before = _note_content(note)
        now = timezone.now()
        # The conditional UPDATE is the lock: of two saves opened at the same version only
        # one changes a row; the other finds nothing and is refused.
        changed = SessionNote.objects.filter(
            pk=note.pk, version=expected_version, signed_at__isnull=True
        ).update(**values, version=F("version") + 1, updated_by=by, updated_at=now)
        if changed != 1:
            current = SessionNote.objects.get(pk=note.pk)
            if current.signed_at is not None:
                raise NoteLockedError()
            raise StaleNoteError(current)
        # Re-read what the UPDATE wrote; the session (and its course) read with the note
        # above cannot have changed, so it is kept rather than fetched again.
        session = note.session
        note.refresh_from_db()
        note.session = session
        reviewed = _save_goal_reviews(note, session, goal_reviews or [], by, now)
        closed = _save_homework_reviews(session, homework_reviews or {}, by)
        staged = _save_dispute_stages(note, session, dispute_stages or [], by, request)
        content = _note_content(note)
        content["goal_reviews"] = reviewed
        content["homework_reviews"] = closed
        if staged:
            content["dispute_stages"] = staged
        NoteRevision.objects.create(
            clinic_id=note.clinic_id,
            note=note,
            version=note.version,
            content=content,
            saved_by=by,
            saved_at=now,
        )
        changes = {
            name: [before[name], content[name]] for name in before if before[name] != content[name]
        }
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=note.clinic_id,
            actor=by,
            patient_id=session.course.patient_id,
            target=note,
            summary=f"Note saved (version {note.version}{', draft' if draft else ''})",
            changes={"fields": sorted(changes)},
            request=request,
        )
    return note


def _save_contract(note: SessionNote, contract: dict, *, expected_version, by, request) -> dict:
    """Write the sick role and contract typed on an initial-phase note to its course (call
    inside ``note_save``'s transaction); the note's record of them as they now stand."""
    if note.phase != Phase.INITIAL:
        raise ValidationError("Only an initial-phase note records the sick role and contract.")
    if expected_version is None:
        raise ValidationError("The course's version is missing: open the note again.")
    course = course_update(
        course=note.session.course,
        by=by,
        expected_version=expected_version,
        request=request,
        **contract,
    )
    return {"sick_role": course.sick_role_note, "contract": contract_summary(course)}


def _save_dispute_stages(
    note: SessionNote, session: TherapySession, stages: list[DisputeStageInput], by, request
) -> list[dict]:
    """Record each dispute's stage at this session (inside ``note_save``'s transaction);
    what the note's revision keeps of them."""
    if not stages:
        return []
    if "focus_problem_area" not in note_fields_for(note.phase):
        raise ValidationError("A role dispute's stage is recorded in a middle-phase note.")
    areas = {
        a.pk: a
        for a in ProblemArea.objects.filter(
            clinic_id=note.clinic_id,
            course_id=session.course_id,
            pk__in=[s.problem_area_id for s in stages],
        ).select_related("course", "clinic")
    }
    held_on = timezone.localdate(session.scheduled_start, session.clinic.tz)
    recorded = []
    for entry in stages:
        area = areas.get(entry.problem_area_id)
        if area is None:
            raise ValidationError("That role dispute is not one of this course's.")
        try:
            dispute_stage_record(
                problem_area=area,
                by=by,
                stage=entry.stage,
                recorded_on=held_on,
                note=entry.note,
                session_id=session.pk,
                request=request,
            )
        except ValidationError as error:
            raise ValidationError({f"dispute_{area.pk}_stage": list(error.messages)}) from error
        recorded.append({"problem_area": area.pk, "stage": entry.stage, "note": entry.note})
    return recorded


def _save_goal_reviews(note, session, reviews: list[GoalReviewInput], by, now) -> list[dict]:
    if not reviews:
        return []
    goals = {
        g.pk: g
        for g in Goal.objects.filter(
            clinic_id=note.clinic_id,
            course_id=session.course_id,
            pk__in=[r.goal_id for r in reviews],
            removed_at__isnull=True,
        )
    }
    saved = []
    for review in reviews:
        goal = goals.get(review.goal_id)
        if goal is None:
            raise ValidationError("A goal reviewed here does not belong to this course.")
        if not 0 <= review.progress <= 10:
            raise ValidationError(f"Progress on “{goal.text}” must be between 0 and 10.")
        if review.status not in GoalStatus.values:
            raise ValidationError(f"Choose a status for “{goal.text}”.")
        values = {
            "clinic_id": note.clinic_id,
            "progress": review.progress,
            "status": review.status,
            "comment": review.comment[:300],
            "reviewed_by": by,
            "reviewed_at": now,
        }
        # One UPDATE for a goal already reviewed in this session (every later save of the
        # note), an INSERT for the first review. Saves of one note are serialised by the
        # note's conditional UPDATE above, and (session, goal) is unique.
        if not GoalReview.objects.filter(session=session, goal=goal).update(**values):
            GoalReview.objects.create(session=session, goal=goal, **values)
        # A goal's edit form opened before this review is then refused (ipt_clinic.editing).
        Goal.objects.filter(pk=goal.pk).update(
            progress=review.progress,
            status=review.status,
            last_reviewed_at=now,
            version=F("version") + 1,
        )
        saved.append({"goal": goal.pk, "progress": review.progress, "status": review.status})
    return saved


def _save_homework_reviews(session, reviews: dict[int, str], by) -> list[dict]:
    closed = []
    for assignment_id, status in reviews.items():
        if not status:
            continue
        assignment = (
            Assignment.objects.select_for_update()
            .filter(clinic_id=session.clinic_id, course_id=session.course_id, pk=assignment_id)
            .first()
        )
        if assignment is None:
            raise ValidationError("Homework reviewed here does not belong to this course.")
        assignment_review(assignment=assignment, session=session, status=status, by=by)
        closed.append({"assignment": assignment.pk, "status": status})
    return closed


def assignment_review(*, assignment: Assignment, session: TherapySession, status: str, by) -> None:
    """Mark homework done or not done as reviewed in ``session``. Call inside a transaction."""
    if status not in (AssignmentStatus.DONE, AssignmentStatus.NOT_DONE):
        raise ValidationError("Homework is reviewed as done or not done.")
    if assignment.status == AssignmentStatus.WITHDRAWN:
        raise ValidationError(f"“{assignment.title}” was withdrawn.")
    if assignment.status == status and assignment.reviewed_in_id == session.pk:
        return
    was_open = assignment.status == AssignmentStatus.ASSIGNED
    old = assignment.status
    assignment.status = status
    assignment.reviewed_in = session
    if status == AssignmentStatus.DONE and assignment.completed_at is None:
        assignment.completed_at = timezone.now()
    if status == AssignmentStatus.NOT_DONE:
        assignment.completed_at = None
    assignment.save(update_fields=["status", "reviewed_in", "completed_at", "updated_at"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=assignment.clinic_id,
        actor=by,
        patient_id=session.course.patient_id,
        target=assignment,
        summary=f"Homework reviewed: {assignment.get_status_display().lower()}",
        changes={"status": [old, status]},
    )
    if was_open:
        notices.on_assignment_closed(assignment)


def _flags_for_the_note(note: SessionNote):
    """The open flags a note must settle: answers filed under its session, and answers the
    patient gave in the portal before the session ended."""
    session = note.session
    ended = session.scheduled_start + timedelta(minutes=session.duration_minutes)
    return Measure.objects.filter(
        clinic_id=note.clinic_id,
        course__patient_id=session.course.patient_id,
        risk_flag=True,
        risk_responded_at__isnull=True,
    ).filter(Q(session_id=session.pk) | Q(session__isnull=True, created_at__lte=ended))


def note_sign_refusals(note: SessionNote, *, by) -> list[str]:
    """Why ``by`` cannot sign ``note`` now, one sentence each; empty when they can. A note is
    signed by its writer (the session's therapist, or the signer named when the course
    moved), with the risk check recorded, for a session that has happened: its start has
    passed and its attendance is recorded as attended. Read ``note.session`` with it."""
    if note.signed_at is not None:
        return [f"This note was already signed on {note.signed_at:%Y-%m-%d %H:%M} UTC."]
    refusals = []
    if note.writer_id != by.pk:
        if note.signer_id is None:
            refusals.append("Only the therapist who ran the session can sign its note.")
        else:
            refusals.append(
                "Only the person this note was handed to when the course moved can sign it."
            )
    if not note.risk_level:
        refusals.append("Record the risk check before signing the note.")
    session = note.session
    if _flags_for_the_note(note).exists():
        refusals.append(
            "A risk flag raised before or in this session is still open: close it in the "
            "note's risk section, saying what was done."
        )
    if session.status in CANCELLED_STATUSES:
        refusals.append("A cancelled session's note cannot be signed.")
    elif session.scheduled_start > timezone.now():
        refusals.append(
            "This session has not started yet: its note is signed once the session has taken place."
        )
    elif session.status == SessionStatus.NO_SHOW:
        refusals.append(
            "The patient did not attend this session: only the note of a session that took "
            "place is signed."
        )
    elif session.status != SessionStatus.ATTENDED:
        refusals.append("Record the attendance as attended before signing the note.")
    return refusals


def note_sign(*, note: SessionNote, by, request=None) -> SessionNote:
    """Sign and lock the note, when ``note_sign_refusals`` finds nothing against it; after
    this the note never changes (later words are addenda), nor does the session's
    attendance."""
    with transaction.atomic():
        # The session first (as session_record_attendance and note_start lock it): its
        # attendance, read below, is part of what the signature fixes.
        list(TherapySession.objects.select_for_update().filter(pk=note.session_id).values("pk"))
        note = (
            SessionNote.objects.select_for_update()
            .select_related("session__course")
            .get(pk=note.pk)
        )
        refusals = note_sign_refusals(note, by=by)
        if refusals:
            raise ValidationError(refusals)
        note.signed_at = timezone.now()
        note.signed_by = by
        note.save(update_fields=["signed_at", "signed_by"])
        figures_changed(clinic_id=note.clinic_id, therapist_ids=[note.writer_id])
        audit_record(
            action=AuditAction.SIGN,
            clinic_id=note.clinic_id,
            actor=by,
            patient_id=note.session.course.patient_id,
            target=note,
            summary=f"Note signed at version {note.version}",
            request=request,
        )
    return note


def note_add_addendum(
    *, note: SessionNote, by, text: str, request=None, form_key: str | None = None
) -> NoteAddendum:
    """Add words to a signed note.

    ``form_key`` is the one-time key of the form sent (``ADDENDUM_FORM``, bound to the note),
    under the rule of ``ipt_clinic.submissions``: sent again with the same text it raises
    ``AlreadySaved`` with the addendum first added, with other text ``SubmissionRefused``
    (nothing saved). Internal callers leave it out."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the addendum's text.")
    with transaction.atomic():
        claim = submission_claim(
            binding=ADDENDUM_FORM.bind(note), key=form_key, content={"text": text}, by=by
        )
        if claim.repeated:
            submission_repeat_answer(
                claim,
                NoteAddendum,
                describe=lambda addendum: f"the addendum {quoted(addendum.text, 60)}",
            )
        note = SessionNote.objects.select_related("session__course").get(pk=note.pk)
        if note.signed_at is None:
            raise ValidationError("The note is not signed yet: edit it instead of adding to it.")
        addendum = NoteAddendum(clinic_id=note.clinic_id, note=note, author=by, text=text)
        addendum.full_clean()
        addendum.save()
        submission_done(claim, addendum)
        audit_record(
            action=AuditAction.CREATE,
            clinic_id=note.clinic_id,
            actor=by,
            patient_id=note.session.course.patient_id,
            target=addendum,
            summary="Addendum added to a signed note",
            request=request,
        )
    return addendum


def notes_hand_over(*, patient, signer, by, request=None) -> int:
    """Name ``signer`` as the one who writes and signs every unsigned note of ``patient`` (any
    course), so that no note stays with a therapist who can no longer open the record;
    returns how many notes were handed.

    A session of an active course that has taken place (attended, or past and not marked yet)
    without a note gets one opened for the signer. Each note that changes hands gets an audit
    event. Call inside the transaction that moves the patient."""
    if not (signer.is_active and signer.clinic_id == patient.clinic_id):
        raise ValidationError("The notes can only be handed to active staff of this clinic.")
    with transaction.atomic():
        unwritten = TherapySession.objects.filter(
            clinic_id=patient.clinic_id,
            course__patient_id=patient.pk,
            course__status="active",
            scheduled_start__lt=timezone.now(),
            status__in=(SessionStatus.ATTENDED, SessionStatus.SCHEDULED),
            note__isnull=True,
        ).order_by("scheduled_start", "pk")
        for session in unwritten:
            note_start(session=session, by=by, request=request)
        notes = (
            SessionNote.objects.select_for_update(of=("self",))
            .select_related("session")
            .filter(
                clinic_id=patient.clinic_id,
                session__course__patient_id=patient.pk,
                signed_at__isnull=True,
            )
            .order_by("session__scheduled_start", "pk")
        )
        handed = 0
        writers = {signer.pk}
        for note in notes:
            writer_id = note.writer_id
            writers.add(writer_id)
            if note.signer_id != signer.pk:
                note.signer = signer
                note.save(update_fields=["signer"])
            if writer_id == signer.pk:
                continue
            handed += 1
            audit_record(
                action=AuditAction.UPDATE,
                clinic_id=note.clinic_id,
                actor=by,
                patient_id=patient.pk,
                target=note,
                summary=f"Note handed to {signer.display_name} to write and sign",
                changes={"signer": [writer_id, signer.pk]},
                request=request,
            )
        figures_changed(clinic_id=patient.clinic_id, therapist_ids=writers)
    return handed


# --------------------------------------------------------------------------- homework


def assignment_set(
    *,
    session: TherapySession,
    by,
    title: str,
    instructions: str,
    kind: str,
    relationship: Relationship | None,
    problem_area: ProblemArea | None,
    due_date: date,
    request=None,
    form_key: str | None = None,
) -> Assignment:
    """Set homework from a session. The person and problem area must be this patient's and
    this course's; the due date may not be in the past (the clinic's calendar).

    ``form_key`` is the one-time key of the form sent (``ASSIGNMENT_FORM``, bound to the
    session), under the rule of ``ipt_clinic.submissions``: sent again with the same homework
    it raises ``AlreadySaved`` with the assignment first set (no second notice goes out), with
    other homework ``SubmissionRefused`` (nothing saved). Internal callers leave it out."""
    with transaction.atomic():
        claim = submission_claim(
            binding=ASSIGNMENT_FORM.bind(session),
            key=form_key,
            content={
                "title": title,
                "instructions": instructions,
                "kind": kind,
                "relationship": relationship,
                "problem_area": problem_area,
                "due_date": due_date,
            },
            by=by,
        )
        if claim.repeated:
            submission_repeat_answer(
                claim,
                Assignment,
                describe=lambda homework: f"the homework {quoted(homework.title)}",
            )
        session = TherapySession.objects.select_related("course", "clinic").get(pk=session.pk)
        course = session.course
        errors = {}
        if kind not in AssignmentKind.values:
            errors["kind"] = "Choose a kind of homework."
        if (
            relationship is not None
            and not Relationship.objects.filter(
                clinic_id=course.clinic_id,
                patient_id=course.patient_id,
                pk=relationship.pk,
                removed_at__isnull=True,
            ).exists()
        ):
            errors["relationship"] = "Choose a person from this patient's inventory."
        if (
            problem_area is not None
            and not ProblemArea.objects.filter(
                clinic_id=course.clinic_id, course_id=course.pk, pk=problem_area.pk, removed_at=None
            ).exists()
        ):
            errors["problem_area"] = "Choose a problem area of this course."
        if due_date < timezone.localdate(timezone=session.clinic.tz):
            errors["due_date"] = "The due date is in the past."
        if session.status in CANCELLED_STATUSES:
            errors["__all__"] = "Homework cannot be set from a cancelled session."
        if errors:
            raise ValidationError(errors)
        assignment = Assignment(
            clinic_id=course.clinic_id,
            course=course,
            session=session,
            title=(title or "").strip(),
            instructions=(instructions or "").strip(),
            kind=kind,
            relationship=relationship,
            problem_area=problem_area,
            due_date=due_date,
            created_by=by,
        )
        assignment.full_clean()
        assignment.save()
        submission_done(claim, assignment)
        audit_record(
            action=AuditAction.CREATE,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=course.patient_id,
            target=assignment,
            summary=f"Homework set: {assignment.title}",
            request=request,
        )
        notices.on_assignment_set(assignment)
    return assignment


# --- every ending closes the loop -------------------------------------------------------

COURSE_ENDED_REASON = "cancelled by clinic: course ended"


@dataclass(frozen=True)
class EndingPlan:
    """What ending a course (or a patient's care) cancels: its future sessions, their
    pending reminders and the pending notices of its open homework."""

    sessions: list[TherapySession]
    reminders: list[Notification]
    homework_notices: list[Notification]
    # Risk flags still open on these courses: the ending waits until each is closed with
    # what was done, so that no flag is left behind a finished course.
    open_flags: list[Measure] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.sessions or self.reminders or self.homework_notices)


def ending_plan(*, clinic_id: int, course_ids: list[int]) -> EndingPlan:
    """What ``courses_close_loop`` would cancel now for these courses (the confirmation
    page lists it; the service cancels exactly this under the course row locks)."""
    now = timezone.now()
    sessions = list(
        TherapySession.objects.filter(
            clinic_id=clinic_id,
            course_id__in=course_ids,
            status=SessionStatus.SCHEDULED,
            scheduled_start__gt=now,
        ).order_by("scheduled_start", "id")
    )
    open_homework = Assignment.objects.filter(
        clinic_id=clinic_id, course_id__in=course_ids, status=AssignmentStatus.ASSIGNED
    ).values("pk")
    unstarted = outbox.unstarted(clinic_id).order_by("due_at", "id")
    return EndingPlan(
        open_flags=list(
            Measure.objects.filter(
                clinic_id=clinic_id,
                course_id__in=course_ids,
                risk_flag=True,
                risk_responded_at__isnull=True,
            ).order_by("taken_at", "pk")
        ),
        sessions=sessions,
        reminders=list(
            unstarted.filter(
                about_type="session",
                about_id__in=[session.pk for session in sessions],
                kind=notices.SESSION_REMINDER,
            )
        ),
        homework_notices=list(
            unstarted.filter(
                about_type="assignment",
                about_id__in=open_homework,
                kind__in=notices.HOMEWORK_KINDS,
            )
        ),
    )


def courses_close_loop(
    *, patient_id: int, clinic_id: int, course_ids: list[int], by, request=None, ending: str
) -> EndingPlan:
    """Cancel the future sessions of ended courses ("cancelled by clinic: course ended"),
    withdraw their reminders and the open homework's notices through the outbox hooks, and
    record one audit event listing them. Call inside the transaction that ends the courses
    (registered with ``patients.endings`` and run from there)."""
    plan = ending_plan(clinic_id=clinic_id, course_ids=course_ids)
    if plan.open_flags:
        raise ValidationError(
            "A risk flag of this course is still open: close it with what was done "
            "before the course ends."
        )
    if plan.is_empty():
        return plan
    for session in TherapySession.objects.select_for_update().filter(
        pk__in=[session.pk for session in plan.sessions], status=SessionStatus.SCHEDULED
    ):
        session.status = SessionStatus.CANCELLED_CLINIC
        session.cancel_reason = COURSE_ENDED_REASON
        save_versioned(session, expected_version=None, fields=["status", "cancel_reason"])
        figures_changed(clinic_id=clinic_id, therapist_ids=[session.therapist_id])
        notices.on_session_cancelled(session)
    for assignment in Assignment.objects.filter(
        clinic_id=clinic_id,
        pk__in={notice.about_id for notice in plan.homework_notices},
    ):
        notices.on_assignment_closed(assignment)
    tz = Clinic.objects.get(pk=clinic_id).tz
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=clinic_id,
        actor=by,
        patient_id=patient_id,
        target=None,
        summary=f"{ending}: {len(plan.sessions)} future session(s) cancelled, "
        f"{len(plan.reminders)} reminder(s) and {len(plan.homework_notices)} homework "
        "notice(s) withdrawn",
        changes={
            "cancelled_sessions": [
                {"id": s.pk, "start": _format_local(s.scheduled_start, tz)} for s in plan.sessions
            ],
            "withdrawn_reminders": [notice.pk for notice in plan.reminders],
            "withdrawn_homework_notices": [notice.pk for notice in plan.homework_notices],
        },
        request=request,
    )
    return plan
