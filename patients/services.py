"""Changes to patients and their interpersonal inventory. Every change writes an audit event;
every change to a person in the inventory also writes a ``RelationshipRevision`` so the circle
can be redrawn as it stood at any moment."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ipt_clinic import params
from ipt_clinic.audit.services import AuditAction, audit_record, diff_fields
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    FormPurpose,
    quoted,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)

from . import endings
from .models import (
    Channel,
    Language,
    LifeEvent,
    Patient,
    PatientStatus,
    PortalLink,
    Relationship,
    RelationshipRevision,
)

PATIENT_FIELDS = [
    "record_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "preferred_channel",
    "reminder_consent",
    "language",
]
RELATIONSHIP_FIELDS = [
    "name",
    "kind",
    "ring",
    "contact_frequency",
    "shared_activities",
    "satisfying",
    "unsatisfying",
    "patient_expectations",
    "their_expectations",
    "expectations_met",
    "disputes",
    "knows_about_depression",
    "wants_to_change",
    "changed_near_onset",
    "change_when",
    "is_support",
    "deceased",
    "died_on",
]
LIFE_EVENT_FIELDS = ["occurred_on", "description", "relationship", "mood_effect"]

# The forms adding to the inventory carry one-time keys bound to the patient
# (ipt_clinic.submissions).
RELATIONSHIP_FORM = FormPurpose("patients.relationship")
LIFE_EVENT_FORM = FormPurpose("patients.life_event")


def record_view(*, request, clinic_id: int, patient_id: int, target, summary: str) -> None:
    """Audit one look at a patient's record (a page or a form showing it)."""
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=clinic_id,
        actor=request.user,
        patient_id=patient_id,
        target=target,
        summary=summary,
        request=request,
    )


def record_list_view(*, request, patient_ids, summary: str) -> None:
    """Audit one look at a page listing named patients (a caseload, a week, a search): one
    event naming every patient the page showed (``changes["patients_shown"]``, ids in
    ascending order), written as one INSERT however long the page is. Written for an empty
    page too, so the page's cost does not depend on what it found."""
    user = request.user
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=user.clinic_id,
        actor=user,
        summary=summary,
        changes={"patients_shown": sorted(set(patient_ids))},
        request=request,
    )


# The audit action of a refused record request.
REFUSED = AuditAction.DENIED


def record_refusal(*, request, model, record_id) -> None:
    """Audit a record request the access helpers refused (missing or forbidden alike): who
    asked, for which record (``object_type``, ``object_id``; an id that is no record id at
    all is kept as typed in ``changes["asked_for"]``), from where and on which page."""
    user = request.user
    number = params.record_id(str(record_id))
    audit_record(
        action=REFUSED,
        clinic_id=user.clinic_id,
        actor=user,
        # An unsaved instance only names the model and the id asked for: nothing is read.
        target=model(pk=number) if number is not None else None,
        summary=f"Refused: {model._meta.verbose_name} {record_id}"[:300],
        changes={
            "asked_for": str(record_id)[:100],
            "object_type": model._meta.label_lower,
            "method": request.method,
            "path": request.path[:300],
        },
        request=request,
    )


RECORD_NUMBER_TAKEN = "Another patient of this clinic already has this record number."


def _check_therapist(*, clinic_id: int, therapist) -> None:
    if (
        therapist is None
        or therapist.clinic_id != clinic_id
        or not therapist.is_active
        or not therapist.is_therapist
    ):
        raise ValidationError({"primary_therapist": "Choose an active therapist of this clinic."})


def _stamp_consent(patient: Patient, *, had_consent: bool) -> None:
    """Consent carries the moment it was given; withdrawing it clears the stamp."""
    if patient.reminder_consent and not had_consent:
        patient.reminder_consent_at = timezone.now()
    elif not patient.reminder_consent:
        patient.reminder_consent_at = None


def _save_patient(patient: Patient) -> None:
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        # Two saves racing past full_clean: the unique constraint has the last word.
        raise ValidationError({"record_number": RECORD_NUMBER_TAKEN}) from exc


@transaction.atomic
def patient_create(
    *,
    by,
    clinic,
    primary_therapist,
    record_number: str,
    first_name: str,
    last_name: str,
    date_of_birth: date | None = None,
    email: str = "",
    phone: str = "",
    preferred_channel: str = Channel.EMAIL,
    reminder_consent: bool = False,
    language: str = Language.ENGLISH,
    request=None,
) -> Patient:
    _check_therapist(clinic_id=clinic.pk, therapist=primary_therapist)
    if Patient.objects.filter(clinic=clinic, record_number=record_number).exists():
        raise ValidationError({"record_number": RECORD_NUMBER_TAKEN})
    patient = Patient(
        clinic=clinic,
        primary_therapist=primary_therapist,
        record_number=record_number,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
        preferred_channel=preferred_channel,
        reminder_consent=reminder_consent,
        language=language,
    )
    _stamp_consent(patient, had_consent=False)
    _save_patient(patient)
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=clinic.pk,
        actor=by,
        patient_id=patient.pk,
        target=patient,
        summary=f"Patient {patient.record_number} created",
        changes=diff_fields(dict.fromkeys(PATIENT_FIELDS), patient, PATIENT_FIELDS),
        request=request,
    )
    return patient


@transaction.atomic
def patient_update(
    *, patient: Patient, by, expected_version: int | None, request=None, **fields
) -> Patient:
    """Change the patient's details (``PATIENT_FIELDS`` only) if the patient is still at
    ``expected_version`` (the version the form was opened at; ``None``: no check, for
    internal callers only). Refused with ``StaleEditError`` when someone saved in between
    and what was asked for is not what is stored now."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise TypeError(f"patient_update() cannot change {sorted(unknown)}")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    before = {name: getattr(patient, name) for name in PATIENT_FIELDS + ["reminder_consent_at"]}
    if (
        fields.get("record_number", patient.record_number) != patient.record_number
        and Patient.objects.filter(
            clinic_id=patient.clinic_id, record_number=fields["record_number"]
        )
        .exclude(pk=patient.pk)
        .exists()
    ):
        raise ValidationError({"record_number": RECORD_NUMBER_TAKEN})
    for name, value in fields.items():
        setattr(patient, name, value)
    _stamp_consent(patient, had_consent=before["reminder_consent"])
    changes = diff_fields(before, patient, PATIENT_FIELDS + ["reminder_consent_at"])
    if changes:
        patient.full_clean()
        try:
            with transaction.atomic():
                save_versioned(patient, expected_version=expected_version, fields=list(changes))
        except IntegrityError as exc:
            # Two saves racing past full_clean: the unique constraint has the last word.
            raise ValidationError({"record_number": RECORD_NUMBER_TAKEN}) from exc
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=patient.clinic_id,
            actor=by,
            patient_id=patient.pk,
            target=patient,
            summary="Patient details changed",
            changes=changes,
            request=request,
        )
    return patient


def _has_active_course(patient: Patient) -> bool:
    # Read through the reverse relation: patients sits below phases and never imports it.
    return patient.courses.filter(status="active").exists()


def _set_status(*, patient: Patient, by, status: str, stamp_field: str, request) -> Patient:
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    allowed_from = {
        PatientStatus.DISCHARGED: {PatientStatus.ACTIVE},
        PatientStatus.ARCHIVED: {PatientStatus.ACTIVE, PatientStatus.DISCHARGED},
    }[status]
    if patient.status not in allowed_from:
        raise ValidationError(
            f"A patient who is {patient.get_status_display().lower()} cannot be "
            f"{PatientStatus(status).label.lower()}."
        )
    if _has_active_course(patient):
        raise ValidationError(
            "This patient has an active IPT course: complete it or record a drop-out first."
        )
    before = {"status": patient.status, stamp_field: getattr(patient, stamp_field)}
    patient.status = status
    setattr(patient, stamp_field, timezone.now())
    save_versioned(patient, expected_version=None, fields=["status", stamp_field])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=patient.clinic_id,
        actor=by,
        patient_id=patient.pk,
        target=patient,
        summary=f"Patient {PatientStatus(status).label.lower()}",
        changes=diff_fields(before, patient, ["status", stamp_field]),
        request=request,
    )
    # Sessions still booked under an ended course are cancelled with the patient's care.
    endings.close_loop(
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        course_ids=list(patient.courses.values_list("pk", flat=True)),
        by=by,
        request=request,
        ending=f"Patient {PatientStatus(status).label.lower()}",
    )
    return patient


@transaction.atomic
def patient_discharge(*, patient: Patient, by, request=None) -> Patient:
    return _set_status(
        patient=patient,
        by=by,
        status=PatientStatus.DISCHARGED,
        stamp_field="discharged_at",
        request=request,
    )


@transaction.atomic
def patient_archive(*, patient: Patient, by, request=None) -> Patient:
    """Archive instead of delete: clinical records are never hard-deleted."""
    return _set_status(
        patient=patient,
        by=by,
        status=PatientStatus.ARCHIVED,
        stamp_field="archived_at",
        request=request,
    )


# --- the interpersonal inventory --------------------------------------------------------


def _revision(relationship: Relationship, *, by, at: datetime) -> RelationshipRevision:
    return RelationshipRevision.objects.create(
        clinic_id=relationship.clinic_id,
        patient_id=relationship.patient_id,
        relationship=relationship,
        recorded_at=at,
        recorded_by=by,
        name=relationship.name,
        kind=relationship.kind,
        ring=relationship.ring,
        is_support=relationship.is_support,
        deceased=relationship.deceased,
        removed=relationship.removed_at is not None,
    )


def _died_means_deceased(relationship: Relationship) -> None:
    # A date of death says the person has died; the box need not be ticked as well.
    if relationship.died_on is not None:
        relationship.deceased = True


@transaction.atomic
def relationship_create(
    *, patient: Patient, by, request=None, form_key: str | None = None, **fields
) -> Relationship:
    """Add a person to the inventory.

    ``form_key`` is the one-time key of the form sent (``RELATIONSHIP_FORM``), under the
    rule of ``ipt_clinic.submissions``: sent again with the same fields it raises
    ``AlreadySaved`` with the person first added, with other fields ``SubmissionRefused``
    (nothing saved). Internal callers leave it out."""
    unknown = set(fields) - set(RELATIONSHIP_FIELDS)
    if unknown:
        raise TypeError(f"relationship_create() got unknown fields {sorted(unknown)}")
    claim = submission_claim(
        binding=RELATIONSHIP_FORM.bind(patient), key=form_key, content=fields, by=by
    )
    if claim.repeated:
        submission_repeat_answer(
            claim, Relationship, describe=lambda person: f"{quoted(person.name)} in the inventory"
        )
    relationship = Relationship(clinic_id=patient.clinic_id, patient=patient, **fields)
    _died_means_deceased(relationship)
    relationship.full_clean()
    relationship.save()
    submission_done(claim, relationship)
    _revision(relationship, by=by, at=relationship.created_at)
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=patient.clinic_id,
        actor=by,
        patient_id=patient.pk,
        target=relationship,
        summary=f"Added {relationship.name} to the interpersonal inventory",
        changes=diff_fields(dict.fromkeys(RELATIONSHIP_FIELDS), relationship, RELATIONSHIP_FIELDS),
        request=request,
    )
    return relationship


@transaction.atomic
def relationship_update(
    *, relationship: Relationship, by, expected_version: int | None, request=None, **fields
) -> Relationship:
    """Change a person of the inventory if still at ``expected_version`` (``None``: no check,
    for internal callers only); otherwise ``StaleEditError``, nothing written."""
    unknown = set(fields) - set(RELATIONSHIP_FIELDS)
    if unknown:
        raise TypeError(f"relationship_update() cannot change {sorted(unknown)}")
    relationship = Relationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.removed_at is not None:
        raise ValidationError("This person has been removed from the inventory.")
    before = {name: getattr(relationship, name) for name in RELATIONSHIP_FIELDS}
    for name, value in fields.items():
        setattr(relationship, name, value)
    _died_means_deceased(relationship)
    changes = diff_fields(before, relationship, RELATIONSHIP_FIELDS)
    if not changes:
        return relationship
    relationship.full_clean()
    save_versioned(relationship, expected_version=expected_version, fields=list(changes))
    _revision(relationship, by=by, at=relationship.updated_at)
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=relationship.clinic_id,
        actor=by,
        patient_id=relationship.patient_id,
        target=relationship,
        summary=f"Changed {relationship.name} in the interpersonal inventory",
        changes=changes,
        request=request,
    )
    return relationship


@transaction.atomic
def relationship_remove(*, relationship: Relationship, by, request=None) -> Relationship:
    """Take a person out of the current circle. The row and its history stay."""
    relationship = Relationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.removed_at is not None:
        return relationship
    relationship.removed_at = timezone.now()
    save_versioned(relationship, expected_version=None, fields=["removed_at"])
    _revision(relationship, by=by, at=relationship.removed_at)
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=relationship.clinic_id,
        actor=by,
        patient_id=relationship.patient_id,
        target=relationship,
        summary=f"Removed {relationship.name} from the interpersonal inventory",
        changes={"removed_at": [None, relationship.removed_at.isoformat()]},
        request=request,
    )
    return relationship


def _check_person(patient_id: int, relationship: Relationship | None) -> None:
    if relationship is not None and (
        relationship.patient_id != patient_id or relationship.removed_at is not None
    ):
        raise ValidationError({"relationship": "Choose a person from this patient's inventory."})


@transaction.atomic
def life_event_create(
    *, patient: Patient, by, request=None, form_key: str | None = None, **fields
) -> LifeEvent:
    """Add a life event to the patient's timeline.

    ``form_key`` is the one-time key of the form sent (``LIFE_EVENT_FORM``), under the rule
    of ``ipt_clinic.submissions``: sent again with the same fields it raises ``AlreadySaved``
    with the event first added, with other fields ``SubmissionRefused`` (nothing saved).
    Internal callers leave it out."""
    unknown = set(fields) - set(LIFE_EVENT_FIELDS)
    if unknown:
        raise TypeError(f"life_event_create() got unknown fields {sorted(unknown)}")
    claim = submission_claim(
        binding=LIFE_EVENT_FORM.bind(patient), key=form_key, content=fields, by=by
    )
    if claim.repeated:
        submission_repeat_answer(
            claim, LifeEvent, describe=lambda event: f"the life event {quoted(event.description)}"
        )
    _check_person(patient.pk, fields.get("relationship"))
    event = LifeEvent(clinic_id=patient.clinic_id, patient=patient, **fields)
    event.full_clean()
    event.save()
    submission_done(claim, event)
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=patient.clinic_id,
        actor=by,
        patient_id=patient.pk,
        target=event,
        summary="Life event added to the timeline",
        changes=diff_fields(dict.fromkeys(LIFE_EVENT_FIELDS), event, LIFE_EVENT_FIELDS),
        request=request,
    )
    return event


@transaction.atomic
def life_event_update(
    *, life_event: LifeEvent, by, expected_version: int | None, request=None, **fields
) -> LifeEvent:
    """Change a life event if still at ``expected_version`` (``None``: no check, for internal
    callers only); otherwise ``StaleEditError``, nothing written."""
    unknown = set(fields) - set(LIFE_EVENT_FIELDS)
    if unknown:
        raise TypeError(f"life_event_update() cannot change {sorted(unknown)}")
    event = LifeEvent.objects.select_for_update().get(pk=life_event.pk)
    if event.removed_at is not None:
        raise ValidationError("This life event has been removed.")
    if "relationship" in fields and fields["relationship"] != event.relationship:
        _check_person(event.patient_id, fields["relationship"])
    before = {name: getattr(event, name) for name in LIFE_EVENT_FIELDS}
    for name, value in fields.items():
        setattr(event, name, value)
    changes = diff_fields(before, event, LIFE_EVENT_FIELDS)
    if changes:
        event.full_clean()
        save_versioned(event, expected_version=expected_version, fields=list(changes))
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=event.clinic_id,
            actor=by,
            patient_id=event.patient_id,
            target=event,
            summary="Life event changed",
            changes=changes,
            request=request,
        )
    return event


@transaction.atomic
def life_event_remove(*, life_event: LifeEvent, by, request=None) -> LifeEvent:
    event = LifeEvent.objects.select_for_update().get(pk=life_event.pk)
    if event.removed_at is None:
        event.removed_at = timezone.now()
        save_versioned(event, expected_version=None, fields=["removed_at"])
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=event.clinic_id,
            actor=by,
            patient_id=event.patient_id,
            target=event,
            summary="Life event removed from the timeline",
            changes={"removed_at": [None, event.removed_at.isoformat()]},
            request=request,
        )
    return event


def portal_links_expire_after_course(*, patient: Patient, ended_at: datetime) -> int:
    """Give the patient's live portal links their end date once a course ends.

    Call inside the transaction that ends the course. Returns how many links changed."""
    expires_at = ended_at + timedelta(days=settings.PORTAL_LINK_DAYS_AFTER_COURSE)
    now = timezone.now()
    return PortalLink.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        clinic_id=patient.clinic_id,
        patient=patient,
        revoked_at__isnull=True,
    ).update(expires_at=expires_at)
