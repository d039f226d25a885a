"""The formulation shared with the patient ("What we agreed" in the portal).

The therapist writes the formulation again in the patient's words (``patient_formulation``
on the course, a draft until shared) and shares it explicitly: sharing is off until then.
Each wording shared is a ``FormulationShare``; at most one is shared at a time. Sharing a
changed wording ends the one before and asks the patient again; withdrawing ends it and the
portal shows nothing. The patient answers a wording ("I agree" or "I'd like to talk about
this", with an optional comment): a ``FormulationAnswer`` tied to it. An answer holds for the
same wording shared again; a new wording has no answer until the patient gives one, and the
earlier answers stay. Every share, withdrawal and answer is audited.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    FormPurpose,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)

from .models import (
    CourseStatus,
    FormulationAnswer,
    FormulationAnswerKind,
    FormulationShare,
    TreatmentCourse,
)

PATIENT_FORMULATION_MAX = 4000
COMMENT_MAX = 2000
# The patient's answer form carries one-time keys bound to the wording shared: a page
# opened before the wording changed cannot answer the new one.
ANSWER_FORM = FormPurpose("phases.formulation_answer")
# Messages the patient reads (the portal is translated).
NOT_SHARED = gettext_lazy("This is no longer shared with you, so your answer was not saved.")


def _lock_course(course: TreatmentCourse) -> TreatmentCourse:
    return TreatmentCourse.objects.select_for_update().get(pk=course.pk)


def _open_share(course: TreatmentCourse) -> FormulationShare | None:
    return (
        FormulationShare.objects.filter(
            clinic_id=course.clinic_id, course=course, withdrawn_at__isnull=True
        )
        .select_related("shared_by")
        .first()
    )


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            {"patient_formulation": "Write the formulation in the patient's words first."}
        )
    if len(text) > PATIENT_FORMULATION_MAX:
        raise ValidationError(
            {
                "patient_formulation": f"Keep it to {PATIENT_FORMULATION_MAX} characters: "
                f"this is {len(text)}."
            }
        )
    return text


def _save_wording(course, text: str, *, by, expected_version, request) -> None:
    if course.patient_formulation == text:
        return
    before = course.patient_formulation
    course.patient_formulation = text
    save_versioned(course, expected_version=expected_version, fields=["patient_formulation"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=course,
        summary="Course changed: the formulation in the patient's words",
        changes={"patient_formulation": [before, text]},
        request=request,
    )


@transaction.atomic
def patient_formulation_save(
    *, course: TreatmentCourse, by, text: str, expected_version: int | None, request=None
) -> TreatmentCourse:
    """Keep the patient's wording as a draft; what is shared (if anything) does not change.
    ``StaleEditError`` when the course moved on from ``expected_version``."""
    text = (text or "").strip()
    if len(text) > PATIENT_FORMULATION_MAX:
        _clean_text(text)
    course = _lock_course(course)
    _save_wording(course, text, by=by, expected_version=expected_version, request=request)
    return course


@transaction.atomic
def formulation_share(
    *, course: TreatmentCourse, by, text: str, expected_version: int | None, request=None
) -> FormulationShare:
    """Share ``text`` (kept as the course's patient wording too) with the patient.

    The same wording already shared: nothing changes (a second click). Another wording
    shared: it ends (``withdrawn_at``) and the new one is shared, so the patient is asked
    again; their earlier answer stays with the wording it answered."""
    text = _clean_text(text)
    course = _lock_course(course)
    if course.status != CourseStatus.ACTIVE:
        raise ValidationError("This course has ended: nothing new can be shared from it.")
    current = _open_share(course)
    if current is not None and current.text == text and course.patient_formulation == text:
        return current
    _save_wording(course, text, by=by, expected_version=expected_version, request=request)
    if current is not None and current.text == text:
        return current
    now = timezone.now()
    if current is not None:
        current.withdrawn_at = now
        current.withdrawn_by = by
        current.save(update_fields=["withdrawn_at", "withdrawn_by"])
    share = FormulationShare(
        clinic_id=course.clinic_id, course=course, text=text, shared_by=by, shared_at=now
    )
    share.full_clean(validate_constraints=False)
    share.save()
    asked_again = (
        FormulationAnswer.objects.filter(clinic_id=course.clinic_id, course=course).exists()
        and not _answers_to(course, text).exists()
    )
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=share,
        summary=(
            "Formulation shared with the patient in the portal"
            + ("; a new wording replaces the one shared before" if current is not None else "")
            + ("; the patient is asked again" if asked_again else "")
        ),
        changes={"shared": [current.text if current else None, text]},
        request=request,
    )
    return share


@transaction.atomic
def formulation_withdraw(*, course: TreatmentCourse, by, request=None) -> FormulationShare | None:
    """Stop sharing the formulation: the portal shows it no more. Nothing shared: nothing
    changes (returns None)."""
    course = _lock_course(course)
    current = _open_share(course)
    if current is None:
        return None
    current.withdrawn_at = timezone.now()
    current.withdrawn_by = by
    current.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=course.clinic_id,
        actor=by,
        patient_id=course.patient_id,
        target=current,
        summary="Formulation no longer shared with the patient",
        changes={"shared": [current.text, None]},
        request=request,
    )
    return current


def _answers_to(course: TreatmentCourse, text: str):
    return FormulationAnswer.objects.filter(
        clinic_id=course.clinic_id, course=course, share__text=text
    )


@transaction.atomic
def formulation_answer_record(
    *,
    share: FormulationShare,
    patient_id: int,
    answer: str,
    comment: str = "",
    form_key: str | None = None,
    request=None,
) -> FormulationAnswer:
    """The patient answers the wording shared with them.

    ``form_key`` (``ANSWER_FORM`` bound to ``share``), under the rule of
    ``ipt_clinic.submissions``: the same answer sent twice raises ``AlreadySaved`` with the
    first; another answer with the same key ``SubmissionRefused``. A wording no longer
    shared is refused (``ValidationError``, nothing saved)."""
    comment = (comment or "").strip()
    if answer not in FormulationAnswerKind.values:
        raise ValidationError(gettext("Please choose one of the two answers."))
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            gettext("Please keep your comment to %(limit)d characters.") % {"limit": COMMENT_MAX}
        )
    claim = submission_claim(
        binding=ANSWER_FORM.bind(share),
        key=form_key,
        content={"answer": answer, "comment": comment},
    )
    if claim.repeated:
        submission_repeat_answer(
            claim,
            FormulationAnswer,
            describe=lambda saved: f"your answer “{saved.get_answer_display()}”",
        )
    course = _lock_course(share.course)
    if course.patient_id != patient_id:
        raise ValidationError(NOT_SHARED)
    current = _open_share(course)
    if current is None or current.pk != share.pk:
        raise ValidationError(NOT_SHARED)
    record = FormulationAnswer(
        clinic_id=course.clinic_id,
        course=course,
        share=share,
        answer=answer,
        comment=comment,
        at=timezone.now(),
    )
    record.full_clean()
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:  # pragma: no cover - the course row lock serialises answers
        raise ValidationError(NOT_SHARED) from None
    submission_done(claim, record)
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=course.clinic_id,
        actor_kind="patient",
        patient_id=patient_id,
        target=record,
        summary=f"Answered the shared formulation in the portal: {record.get_answer_display()}"
        + (" (with a comment)" if comment else ""),
        request=request,
    )
    return record


# --- reads ---------------------------------------------------------------------------------


@dataclass
class SharedFormulation:
    """What the course page shows about the patient's wording: the wording shared now (or
    None), the patient's answer to it (or None), and every answer, newest first."""

    share: FormulationShare | None
    answer: FormulationAnswer | None
    answers: list[FormulationAnswer] = field(default_factory=list)

    @property
    def earlier_answers(self) -> list[FormulationAnswer]:
        return [a for a in self.answers if a is not self.answer]


# ``shared_formulation``'s ``open_share`` when the caller has not read it.
UNREAD = object()


def shared_formulation(
    course: TreatmentCourse, *, open_share=UNREAD, answered: bool = True
) -> SharedFormulation:
    """The course's shared wording and the patient's answers: two queries, fewer when the
    caller has read the wording shared now (``open_share``, with its ``shared_by``; None
    when nothing is shared) or knows the patient has answered nothing (``answered``
    False)."""
    share = _open_share(course) if open_share is UNREAD else open_share
    answers = (
        list(
            FormulationAnswer.objects.filter(clinic_id=course.clinic_id, course=course)
            .select_related("share")
            .order_by("-at", "-id")
        )
        if answered
        else []
    )
    answer = None
    if share is not None:
        answer = next((a for a in answers if a.share.text == share.text), None)
    return SharedFormulation(share=share, answer=answer, answers=answers)


def awaiting_answer() -> Exists:
    """For a query over courses: the course shares a wording the patient has not answered."""
    answered = FormulationAnswer.objects.filter(
        course=OuterRef("course"), share__text=OuterRef("text")
    )
    return Exists(
        FormulationShare.objects.filter(course=OuterRef("pk"), withdrawn_at__isnull=True).filter(
            ~Exists(answered)
        )
    )


def shares_formulation() -> Exists:
    """For a query over courses: the course shares a wording with the patient now."""
    return Exists(FormulationShare.objects.filter(course=OuterRef("pk"), withdrawn_at__isnull=True))
