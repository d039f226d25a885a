"""Recording questionnaires: the one path by which a PHQ-9 or GAD-7 enters the record,
whether a therapist types it or the patient fills it in through the portal."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record
from phases.models import TreatmentCourse

from .models import EnteredBy, Measure, TherapySession
from .scoring import phq9_item9_positive, score


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
    submission_key: str | None = None,
    request=None,
) -> Measure:
    """Score and store one questionnaire; keep the course's baseline and latest figures.

    A PHQ-9 whose item 9 is above 0 opens a risk flag. ``submission_key`` makes a repeated
    submission of the same form return the first record instead of a second one.
    Raises ValidationError (nothing saved) when an item is missing or out of range.
    """
    if submission_key:
        existing = Measure.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    total, severity = score(instrument, answers)
    # Lock the course row: baseline/latest must follow the order measures arrive in.
    course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
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
        taken_at=taken_at or timezone.now(),
        risk_flag=instrument == "phq9" and phq9_item9_positive(answers),
        submission_key=submission_key or None,
    )
    try:
        with transaction.atomic():
            measure.save()
    except IntegrityError:
        if submission_key:
            return Measure.objects.get(submission_key=submission_key)
        raise
    _refresh_course_figures(course)
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=course.clinic_id,
        actor=entered_by,
        actor_kind="staff" if entered_by_kind == EnteredBy.STAFF else "patient",
        patient_id=course.patient_id,
        target=measure,
        summary=f"{measure.get_instrument_display()} recorded (total {total}, {severity})"
        + ("; item 9 positive — risk flag raised" if measure.risk_flag else ""),
        request=request,
    )
    return measure


def _refresh_course_figures(course: TreatmentCourse) -> None:
    """Baseline is the earliest score of each instrument, latest the most recent (by
    ``taken_at``, then id). One query for both instruments (three small columns per score
    of this course), then the write."""
    rows = (
        Measure.objects.filter(
            clinic_id=course.clinic_id, course_id=course.pk, instrument__in=("phq9", "gad7")
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
    }
    TreatmentCourse.objects.filter(pk=course.pk).update(**fields)
    for name, value in fields.items():
        setattr(course, name, value)


@transaction.atomic
def risk_flag_respond(*, measure: Measure, by, response: str, request=None) -> Measure:
    """A clinician records what they did about a positive item 9; the flag then closes."""
    from django.core.exceptions import ValidationError

    response = (response or "").strip()
    if not response:
        raise ValidationError("Write what you did in response to the risk flag.")
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if not measure.risk_flag:
        raise ValidationError("This questionnaire raised no risk flag.")
    if measure.risk_responded_at is not None:
        raise ValidationError("A response to this risk flag is already recorded.")
    measure.risk_response = response
    measure.risk_responded_by = by
    measure.risk_responded_at = timezone.now()
    measure.save(update_fields=["risk_response", "risk_responded_by", "risk_responded_at"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=measure.clinic_id,
        actor=by,
        patient_id=measure.course.patient_id,
        target=measure,
        summary="Risk flag response recorded",
        request=request,
    )
    return measure
