"""Changes made through the portal (by the patient) and around it (by staff)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ipt_clinic.audit.services import AuditAction, audit_record
from patients.models import Patient, PortalLink
from patients.notices import on_portal_link_sent
from patients.portal_links import portal_link_create
from phases.models import TreatmentCourse
from sessions import notices
from sessions.measures import measure_record
from sessions.models import Assignment, AssignmentStatus, EnteredBy, Measure

PATIENT_CLOSABLE = (AssignmentStatus.DONE, AssignmentStatus.NOT_DONE)


@transaction.atomic
def assignment_close_by_patient(
    *, assignment: Assignment, status: str, reflection: str, link: PortalLink, request=None
) -> tuple[Assignment, bool]:
    """The patient marks homework done or not done, with a short reflection.

    Idempotent: the same answer sent twice changes nothing the second time (returns
    ``changed=False``). The patient may correct their answer until the therapist has reviewed
    the homework in a session. The outbox hears about it only when the homework first closes.
    """
    if status not in PATIENT_CLOSABLE:
        raise ValidationError(_("Choose whether you did this homework."))
    reflection = (reflection or "").strip()
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status == AssignmentStatus.WITHDRAWN or assignment.reviewed_in_id is not None:
        raise ValidationError(_("This homework can no longer be changed."))
    if assignment.status == status and assignment.reflection == reflection:
        return assignment, False
    first_close = assignment.status == AssignmentStatus.ASSIGNED
    before = {"status": assignment.status, "reflection": assignment.reflection}
    assignment.status = status
    assignment.reflection = reflection
    if first_close or assignment.completed_at is None:
        assignment.completed_at = timezone.now()
    # Validate what the patient changed; the rest was validated by whoever set the homework.
    changed_fields = ["status", "reflection", "completed_at"]
    assignment.full_clean(
        exclude=[f.name for f in Assignment._meta.fields if f.name not in changed_fields]
    )
    assignment.save(update_fields=["status", "reflection", "completed_at", "updated_at"])
    if first_close:
        notices.on_assignment_closed(assignment)
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=assignment.clinic_id,
        actor_kind="patient",
        patient_id=link.patient_id,
        target=assignment,
        summary=f"Homework marked {assignment.get_status_display().lower()} in the portal",
        changes={
            name: [old, getattr(assignment, name)]
            for name, old in before.items()
            if old != getattr(assignment, name)
        },
        request=request,
    )
    return assignment, True


@transaction.atomic
def self_report_record(
    *,
    patient: Patient,
    course: TreatmentCourse,
    instrument: str,
    answers: list[int],
    form_key: str | None,
    request=None,
) -> Measure:
    """Store a questionnaire the patient filled in (``measure_record``). Its form's one-time
    key is bound to the patient: the same form sent twice gives one record (the second
    raises ``AlreadySaved``), sent again with other answers a correction."""
    if course.patient_id != patient.pk or course.clinic_id != patient.clinic_id:
        raise ValidationError("This course is not the patient's.")
    measure = measure_record(
        course=course,
        instrument=instrument,
        answers=answers,
        entered_by_kind=EnteredBy.PATIENT,
        form_key=form_key,
        request=request,
    )
    done = "corrected" if measure.corrects_id is not None else "filled in"
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=patient.clinic_id,
        actor_kind="patient",
        patient_id=patient.pk,
        target=measure,
        summary=f"{measure.get_instrument_display()} {done} through the portal"
        + ("; item 9 positive" if measure.risk_flag else ""),
        request=request,
    )
    return measure


@transaction.atomic
def portal_link_issue(
    *, patient: Patient, by, send: bool = False, request=None
) -> tuple[PortalLink, str, bool]:
    """Create (or replace) the patient's link and, if asked, queue it for sending by the
    patient's preferred channel in the same transaction. Returns (link, url, queued)."""
    link, url = portal_link_create(patient=patient, by=by, request=request)
    queued = False
    if send:
        # The outbox answers None when the patient has no usable contact or no consent.
        queued = on_portal_link_sent(link, url) is not None
    return link, url, queued


def caseload_mark_seen(*, user, at=None) -> None:
    """The therapist has looked at their portal activity up to ``at`` (now by default)."""
    at = at or timezone.now()
    get_user_model().objects.filter(pk=user.pk).update(caseload_seen_at=at)
    user.caseload_seen_at = at
