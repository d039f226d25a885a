"""A booster session of a maintenance IPT course: a session booked between the contract's own
because a warning sign of the relapse-prevention plan came back. The session is booked as any
other (``services.session_book``: the slot checked, the reminder in the outbox); the course
records the booster and the sign (``phases.maintenance.maintenance_booster_record``), in the
same transaction."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from phases.maintenance import booster_refusal, maintenance_booster_record
from phases.models import TreatmentCourse

from .models import TherapySession
from .services import session_book


def booster_book(
    *,
    course: TreatmentCourse,
    start: datetime,
    duration_minutes: int,
    modality: str,
    warning_sign: str,
    note: str = "",
    by,
    request=None,
) -> TherapySession:
    """Book a booster session of the maintenance course ``course`` at ``start`` (aware),
    recording ``warning_sign`` (empty when none was named: booked all the same, and shown
    among the course's fidelity flags). All or nothing."""
    with transaction.atomic():
        # Under the course's lock: a course ended meanwhile takes no booster.
        course = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        refusal = booster_refusal(course)
        if refusal:
            raise ValidationError(refusal)
        session = session_book(
            course=course,
            start=start,
            duration_minutes=duration_minutes,
            modality=modality,
            by=by,
            request=request,
        )
        maintenance_booster_record(
            course=course,
            session_id=session.pk,
            warning_sign=warning_sign,
            note=note,
            by=by,
            request=request,
        )
    return session
