"""Changes to discharge letters: draft, edit, sign. Only the course's therapist writes them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction
from ipt_clinic.audit.services import audit_record
from ipt_clinic.editing import save_versioned
from phases.models import TreatmentCourse

from .drafting import ENDED_STATUSES, letter_draft_from_record
from .models import DischargeLetter

SIGNED_MESSAGE = (
    "This letter is signed and locked: it cannot be changed. To correct it, draft a new "
    "letter that replaces it."
)
EDITABLE_FIELDS = (
    "recipient_name",
    "recipient_role",
    "recipient_address",
    *DischargeLetter.SECTIONS,
)


class LetterSigned(ValidationError):
    """The letter was signed (maybe meanwhile): nothing was written."""

    def __init__(self):
        super().__init__(SIGNED_MESSAGE, code="signed")


def letter_draft(*, course: TreatmentCourse, by, request=None) -> DischargeLetter:
    """Draft the course's letter from its record, or give back the draft already open.

    Only for an ended course: its dates, counts and scores are final then, so the letter
    says what the record will keep saying. When the course already has a signed letter the
    new draft supersedes the latest one, and its recipient is copied over."""
    with transaction.atomic():
        course = (
            TreatmentCourse.objects.select_for_update()
            .select_related("patient", "clinic")
            .get(pk=course.pk)
        )
        if course.status not in ENDED_STATUSES:
            raise ValidationError("A discharge letter is written once the course has ended.")
        letters = list(DischargeLetter.objects.filter(clinic_id=course.clinic_id, course=course))
        draft = next((letter for letter in letters if not letter.is_signed), None)
        if draft is not None:
            return draft
        signed = [letter for letter in letters if letter.is_signed]
        latest = max(signed, key=lambda letter: letter.signed_at) if signed else None
        sections = letter_draft_from_record(course)
        letter = DischargeLetter(
            clinic_id=course.clinic_id,
            course=course,
            supersedes=latest,
            created_by=by,
            recipient_name=latest.recipient_name if latest else "",
            recipient_role=latest.recipient_role if latest else "gp",
            recipient_address=latest.recipient_address if latest else "",
            **{name: getattr(sections, name) for name in DischargeLetter.SECTIONS},
        )
        letter.full_clean()
        letter.save()
        audit_record(
            action=AuditAction.CREATE,
            clinic_id=course.clinic_id,
            actor=by,
            patient_id=course.patient_id,
            target=letter,
            summary="Discharge letter drafted"
            + (f" to replace the letter signed {latest.signed_at:%Y-%m-%d}" if latest else ""),
            request=request,
        )
    return letter


def letter_update(
    *, letter: DischargeLetter, by, expected_version: int, request=None, **values
) -> DischargeLetter:
    """Save the typed recipient and sections. ``StaleEditError`` when the letter moved on
    from ``expected_version``; ``LetterSigned`` once it is signed."""
    with transaction.atomic():
        current = DischargeLetter.objects.select_for_update().get(pk=letter.pk)
        if current.is_signed:
            raise LetterSigned()
        changed = [name for name in EDITABLE_FIELDS if getattr(current, name) != values[name]]
        for name in EDITABLE_FIELDS:
            setattr(current, name, values[name])
        current.full_clean()
        save_versioned(current, expected_version=expected_version, fields=EDITABLE_FIELDS)
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=current.clinic_id,
            actor=by,
            patient_id=current.course.patient_id,
            target=current,
            summary=f"Discharge letter edited (version {current.version})",
            changes={"fields": changed},
            request=request,
        )
    return current


def letter_sign(
    *, letter: DischargeLetter, by, expected_version: int, request=None
) -> DischargeLetter:
    """Sign and lock the letter as it stood on the confirmation page (``expected_version``):
    a letter edited meanwhile is refused with ``StaleEditError``."""
    with transaction.atomic():
        current = DischargeLetter.objects.select_for_update().get(pk=letter.pk)
        if current.is_signed:
            raise LetterSigned()
        current.signed_at = timezone.now()
        current.signed_by = by
        save_versioned(
            current, expected_version=expected_version, fields=("signed_at", "signed_by")
        )
        audit_record(
            action=AuditAction.SIGN,
            clinic_id=current.clinic_id,
            actor=by,
            patient_id=current.course.patient_id,
            target=current,
            summary=f"Discharge letter signed at version {expected_version}",
            request=request,
        )
    return current
