"""Changes the clinic admin makes to caseloads: moving a course (or a patient with no active
course), or several of one therapist's patients at once, to another therapist of the same
clinic."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ipt_clinic.accounts.models import Role
from ipt_clinic.audit.services import AuditAction, audit_record
from patients.caseload_figures import figures_changed
from patients.models import Patient
from phases.models import CourseStatus, TreatmentCourse
from sessions.models import SessionStatus, TherapySession
from sessions.services import calendar_clashes, notes_hand_over


def _check_reassignment(
    *, clinic_id: int, current_therapist_id: int, to_therapist, by, expected_therapist=None
) -> None:
    if not (by.is_clinic_admin and by.clinic_id == clinic_id):
        raise ValidationError("Only an admin of this clinic may reassign its patients.")
    if expected_therapist is not None and current_therapist_id != expected_therapist.pk:
        raise ValidationError(
            f"This patient is no longer with {expected_therapist.display_name}: someone "
            "reassigned them meanwhile."
        )
    if to_therapist.clinic_id != clinic_id or to_therapist.role != Role.THERAPIST:
        raise ValidationError("The new therapist must be a therapist of the same clinic.")
    if not to_therapist.is_active or to_therapist.deactivated_at is not None:
        raise ValidationError("The new therapist's account is deactivated.")
    if to_therapist.pk == current_therapist_id:
        raise ValidationError("The course is already with this therapist.")


def course_reassign(
    *,
    course: TreatmentCourse,
    to_therapist,
    by,
    reason: str,
    notes_signer=None,
    expected_therapist=None,
    request: HttpRequest | None = None,
) -> TreatmentCourse:
    """Move an active course to ``to_therapist``: the course, the patient's primary therapist
    (which is what access follows), every future scheduled session and every unsigned note,
    in one transaction.

    Refused, with one line per clash, when a future session of the course overlaps a session
    already in the new therapist's calendar. The unsigned notes are handed to
    ``notes_signer``: the new therapist (the default) or the admin making the change.
    ``expected_therapist`` (the therapist a preview showed the course with): refused when the
    course has moved to someone else since.

    The course and the patient rows are locked, so two admins reassigning the same course at
    once are applied one after the other, and the second is checked against the first.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give a reason for the reassignment.")
    notes_signer = notes_signer or to_therapist
    if notes_signer.pk not in (to_therapist.pk, by.pk):
        raise ValidationError(
            "Unsigned notes go to the new therapist or to the admin making the change."
        )
    with transaction.atomic():
        course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        patient = Patient.objects.select_for_update().get(pk=course.patient_id)
        if course.status != CourseStatus.ACTIVE:
            raise ValidationError("Only an active course can be reassigned.")
        _check_reassignment(
            clinic_id=course.clinic_id,
            current_therapist_id=course.therapist_id,
            to_therapist=to_therapist,
            by=by,
            expected_therapist=expected_therapist,
        )
        future = list(
            TherapySession.objects.filter(
                clinic_id=course.clinic_id,
                course=course,
                status=SessionStatus.SCHEDULED,
                scheduled_start__gte=timezone.now(),
            )
        )
        clashes = calendar_clashes(therapist=to_therapist, sessions=future, tz=course.clinic.tz)
        if clashes:
            raise ValidationError(
                [
                    f"{to_therapist.display_name} is already booked at the time of "
                    f"{len(clashes)} of this course's future sessions. Nothing was changed: "
                    "move these sessions (or the other bookings) first."
                ]
                + clashes
            )
        from_therapist_id = course.therapist_id
        from_primary_id = patient.primary_therapist_id
        course.therapist = to_therapist
        course.full_clean()
        course.save(update_fields=["therapist", "updated_at"])
        patient.primary_therapist = to_therapist
        patient.full_clean()
        patient.save(update_fields=["primary_therapist", "updated_at"])
        moved = TherapySession.objects.filter(pk__in=[s.pk for s in future]).update(
            therapist=to_therapist, updated_at=timezone.now()
        )
        figures_changed(
            clinic_id=course.clinic_id, therapist_ids=[from_therapist_id, to_therapist.pk]
        )
        notes_handed = notes_hand_over(patient=patient, signer=notes_signer, by=by, request=request)
        audit_record(
            action=AuditAction.REASSIGN,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=patient.pk,
            target=course,
            summary=f"Course reassigned: {reason}",
            changes={
                "therapist": [from_therapist_id, to_therapist.pk],
                "primary_therapist": [from_primary_id, to_therapist.pk],
                "future_sessions_moved": moved,
                "notes_signer": notes_signer.pk,
                "unsigned_notes_handed": notes_handed,
                "reason": reason,
            },
            request=request,
        )
    return course


def patient_reassign(
    *,
    patient: Patient,
    to_therapist,
    by,
    reason: str,
    notes_signer=None,
    expected_therapist=None,
    request: HttpRequest | None = None,
) -> Patient:
    """Move a patient to ``to_therapist``: through ``course_reassign`` when they have an active
    course, otherwise the primary therapist and any unsigned note of an earlier course (e.g.
    someone waiting for a course). ``expected_therapist`` as for ``course_reassign``."""
    active = TreatmentCourse.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, status=CourseStatus.ACTIVE
    ).first()
    if active is not None:
        course_reassign(
            course=active,
            to_therapist=to_therapist,
            by=by,
            reason=reason,
            notes_signer=notes_signer,
            expected_therapist=expected_therapist,
            request=request,
        )
        patient.refresh_from_db()
        return patient
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give a reason for the reassignment.")
    notes_signer = notes_signer or to_therapist
    if notes_signer.pk not in (to_therapist.pk, by.pk):
        raise ValidationError(
            "Unsigned notes go to the new therapist or to the admin making the change."
        )
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        _check_reassignment(
            clinic_id=patient.clinic_id,
            current_therapist_id=patient.primary_therapist_id,
            to_therapist=to_therapist,
            by=by,
            expected_therapist=expected_therapist,
        )
        from_id = patient.primary_therapist_id
        patient.primary_therapist = to_therapist
        patient.full_clean()
        patient.save(update_fields=["primary_therapist", "updated_at"])
        notes_handed = notes_hand_over(patient=patient, signer=notes_signer, by=by, request=request)
        audit_record(
            action=AuditAction.REASSIGN,
            clinic_id=patient.clinic_id,
            actor=by,
            patient_id=patient.pk,
            target=patient,
            summary=f"Patient reassigned: {reason}",
            changes={
                "primary_therapist": [from_id, to_therapist.pk],
                "notes_signer": notes_signer.pk,
                "unsigned_notes_handed": notes_handed,
                "reason": reason,
            },
            request=request,
        )
    return patient


@dataclass(frozen=True)
class CaseloadMove:
    """What ``caseload_reassign`` moved: the patients and their future sessions."""

    patients: list[Patient]
    future_sessions: int


def caseload_reassign(
    *,
    from_therapist,
    to_therapist,
    patients: list[Patient],
    by,
    reason: str,
    notes_signer=None,
    request: HttpRequest | None = None,
) -> CaseloadMove:
    """Move the chosen ``patients`` of ``from_therapist`` (several, or all of them, as the
    reassignment preview listed them) to ``to_therapist``, all or none, in one transaction:
    each through ``patient_reassign`` (their course, future sessions and unsigned notes, and
    one audit event per patient).

    Refused whole, nothing changed, when one of them is no longer with ``from_therapist`` or
    one of their future sessions now clashes with the new therapist's calendar: the preview
    is then out of date, and shown again."""
    if not patients:
        raise ValidationError("Choose at least one patient to move.")
    if not reason.strip():
        raise ValidationError("Give a reason for the reassignment.")
    patients = sorted(patients, key=lambda patient: patient.pk)
    with transaction.atomic():
        future_sessions = TherapySession.objects.filter(
            clinic_id=from_therapist.clinic_id,
            course__patient__in=patients,
            course__status=CourseStatus.ACTIVE,
            status=SessionStatus.SCHEDULED,
            scheduled_start__gte=timezone.now(),
        ).count()
        moved = []
        for patient in patients:
            try:
                moved.append(
                    patient_reassign(
                        patient=patient,
                        to_therapist=to_therapist,
                        by=by,
                        reason=reason,
                        notes_signer=notes_signer,
                        expected_therapist=from_therapist,
                        request=request,
                    )
                )
            except ValidationError as error:
                raise ValidationError(
                    [f"{patient.full_name}: {message}" for message in error.messages]
                ) from error
    return CaseloadMove(patients=moved, future_sessions=future_sessions)
