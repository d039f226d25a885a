"""Recording questionnaires: the one path by which a PHQ-9, GAD-7 or WSAS enters the record,
whether a therapist types it or the patient fills it in through the portal."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.submissions.services import (
    AlreadySaved,
    FormBinding,
    FormPurpose,
    submission_claim,
    submission_done,
)
from patients.caseload_figures import figures_changed
from patients.models import Patient
from phases.models import TreatmentCourse

from .models import EnteredBy, Measure, TherapySession
from .risk import risk_flag_raised
from .scoring import INSTRUMENTS, phq9_item9_positive, score, unscored_words

# Questionnaire forms carry one-time keys (ipt_clinic.submissions): a therapist's form is
# bound to the questionnaire and the session it is entered in, the portal's to the
# questionnaire and the patient.
_STAFF_FORMS = {code: FormPurpose(f"therapy.measure.{code}") for code in INSTRUMENTS}
_PORTAL_FORMS = {code: FormPurpose(f"therapy.self_report.{code}") for code in INSTRUMENTS}


def measure_form_binding(
    instrument: str,
    *,
    session: TherapySession | None = None,
    patient_id: int | None = None,
    clinic_id: int | None = None,
) -> FormBinding:
    """What the key of a questionnaire form is bound to: ``session`` for a therapist's form,
    otherwise the patient (``patient_id`` of ``clinic_id``) filling it in through the
    portal."""
    if session is not None:
        return _STAFF_FORMS[instrument].bind(session)
    return _PORTAL_FORMS[instrument].bind_id(Patient, patient_id, clinic_id=clinic_id)


@transaction.atomic
def measure_record(
    *,
    course: TreatmentCourse,
    instrument: str,
    answers: list[int],
    entered_by_kind: str = EnteredBy.STAFF,
    entered_by=None,
    session: TherapySession | None = None,
    taken_at: datetime | None = None,
    form_key: str | None = None,
    request=None,
) -> Measure:
    """Score and store one questionnaire; keep the course's baseline and latest figures.

    A PHQ-9 whose item 9 is above 0 opens a risk flag. Raises ValidationError (nothing
    saved) when an item is missing (None, except an item the instrument lets go unscored:
    ``scoring.score``) or out of range, or when ``session`` has not started yet
    (scores belong to sessions that happened; a patient fills one in before a session
    through the portal, under no session).

    ``form_key`` is the one-time key of the form the answers came in (``measure_form_binding``:
    bound to the session for a therapist, to the patient for the portal), under the rule of
    ``ipt_clinic.submissions``, except that other answers under a used key are a correction,
    never refused: sent again with the same answers it raises ``AlreadySaved`` with the
    latest record of that form; with other answers it records a **correction**, a new
    Measure pointing at the one it corrects (``corrects``, same session and time taken),
    scored and flagged by the usual rules, while the corrected one is stamped
    ``superseded_at`` and left out of every figure, chart and list (a flag it raised stays open
    until a clinician responds). A key issued
    for another form, session, patient or clinic raises ``SubmissionRefused``."""
    total, severity = score(instrument, answers)
    if session is not None and session.scheduled_start > timezone.now():
        raise ValidationError(
            "This session has not started yet: a questionnaire is entered under a session "
            "once it has started."
        )
    # Lock the course row: baseline/latest must follow the order measures arrive in. Of its
    # wide row, what is used here and by the risk alert (the ids it reads the rest by); the
    # figures are written, never read.
    course = (
        TreatmentCourse.objects.select_for_update()
        .only("id", "clinic_id", "patient_id", "therapist_id")
        .get(pk=course.pk)
    )
    claim = submission_claim(
        binding=_binding_for(course, instrument, entered_by_kind, session),
        key=form_key,
        content={"answers": list(answers)},
        by=entered_by,
    )
    corrected = None
    if claim.repeated:
        corrected = Measure.objects.select_for_update().get(
            clinic_id=course.clinic_id, pk=claim.submission.object_id
        )
        if claim.same_content:
            raise AlreadySaved(corrected)
    now = timezone.now()
    measure = Measure(
        clinic_id=course.clinic_id,
        course=course,
        session=session,
        instrument=instrument,
        answers=list(answers),
        total=total,
        severity=severity,
        entered_by_kind=entered_by_kind,
        entered_by=entered_by if entered_by_kind == EnteredBy.STAFF else None,
        taken_at=corrected.taken_at if corrected else taken_at or now,
        risk_flag=instrument == "phq9" and phq9_item9_positive(answers),
        corrects=corrected,
    )
    measure.save()
    if corrected is not None:
        corrected.superseded_at = now
        corrected.save(update_fields=["superseded_at"])
    submission_done(claim, measure)
    _refresh_course_figures(course)
    figures_changed(clinic_id=course.clinic_id, therapist_ids=[course.therapist_id])
    if measure.risk_flag and not (corrected is not None and corrected.risk_flag):
        # A correction of answers that already raised a flag keeps that flag (and its
        # alerts) open instead of alerting again.
        risk_flag_raised(measure=measure, request=request)
    flag = "; item 9 positive — risk flag raised" if measure.risk_flag else ""
    unscored = unscored_words(instrument, measure.answers)
    flag = f"; {unscored}{flag}" if unscored else flag
    label = measure.get_instrument_display()
    if corrected is None:
        audit_record(
            action=AuditAction.CREATE,
            clinic_id=course.clinic_id,
            actor=entered_by,
            actor_kind="staff" if entered_by_kind == EnteredBy.STAFF else "patient",
            patient_id=course.patient_id,
            target=measure,
            summary=f"{label} recorded (total {total}, {severity}){flag}",
            request=request,
        )
    else:
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=course.clinic_id,
            actor=entered_by,
            actor_kind="staff" if entered_by_kind == EnteredBy.STAFF else "patient",
            patient_id=course.patient_id,
            target=measure,
            summary=f"{label} corrected: total {corrected.total} → {total} ({severity}){flag}",
            changes={
                "corrects": [None, corrected.pk],
                "answers": [corrected.answers, measure.answers],
                "total": [corrected.total, total],
                "severity": [corrected.severity, severity],
                "risk_flag": [corrected.risk_flag, measure.risk_flag],
            },
            request=request,
        )
    return measure


def _binding_for(course, instrument: str, entered_by_kind: str, session) -> FormBinding:
    if entered_by_kind == EnteredBy.STAFF and session is not None:
        return measure_form_binding(instrument, session=session)
    return measure_form_binding(
        instrument, patient_id=course.patient_id, clinic_id=course.clinic_id
    )


def _refresh_course_figures(course: TreatmentCourse) -> None:
    """Baseline is the earliest score of each instrument, latest the most recent (by
    ``taken_at``, then id), of the scores no correction has superseded. One query for every
    instrument (three small columns per score of this course), then the write."""
    rows = (
        Measure.objects.filter(
            clinic_id=course.clinic_id,
            course_id=course.pk,
            superseded_at__isnull=True,
        )
        .order_by("taken_at", "id")
        .values_list("instrument", "total", "taken_at")
    )
    first, last = {}, {}
    for instrument, total, taken_at in rows:
        first.setdefault(instrument, (total, taken_at))
        last[instrument] = (total, taken_at)
    none = (None, None)
    fields = {
        "baseline_phq9": first.get("phq9", none)[0],
        "latest_phq9": last.get("phq9", none)[0],
        "latest_phq9_at": last.get("phq9", none)[1],
        "baseline_gad7": first.get("gad7", none)[0],
        "latest_gad7": last.get("gad7", none)[0],
        "baseline_wsas": first.get("wsas", none)[0],
        "latest_wsas": last.get("wsas", none)[0],
    }
    TreatmentCourse.objects.filter(pk=course.pk).update(**fields)
    for name, value in fields.items():
        setattr(course, name, value)
