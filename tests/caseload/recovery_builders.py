"""Finished courses with first and last scores, for the tests of outcomes as services report
them."""

from datetime import timedelta

from django.utils import timezone

from phases.models import CourseStatus, Phase
from sessions.models import Measure, SessionStatus
from tests.factories import CourseFactory, PatientFactory, ProblemAreaFactory, SessionFactory


def score(course, session, instrument, total, *, taken_at=None):
    return Measure.objects.create(
        clinic=course.clinic,
        course=course,
        session=session,
        instrument=instrument,
        answers=[0] * (9 if instrument == "phq9" else 7),
        total=total,
        severity="recorded",
        taken_at=taken_at or session.scheduled_start + timedelta(minutes=5),
    )


def ended_course(
    therapist,
    *,
    phq9=(),
    gad7=(),
    area=None,
    status=CourseStatus.COMPLETED,
    ended_days_ago=5,
    patient=None,
):
    """A course ended ``ended_days_ago`` with one attended session a week for each score
    given (``None``: nothing of that questionnaire at that session)."""
    now = timezone.now()
    course = CourseFactory(
        patient=patient or PatientFactory(primary_therapist=therapist),
        therapist=therapist,
        status=status,
        phase=Phase.COMPLETED if status == CourseStatus.COMPLETED else Phase.PROBLEM_SOLVING,
        start_date=timezone.localdate() - timedelta(days=120),
        ended_at=now - timedelta(days=ended_days_ago),
    )
    count = max(len(phq9), len(gad7))
    for index in range(count):
        session = SessionFactory(
            course=course,
            scheduled_start=now - timedelta(days=ended_days_ago + 7 * (count - index)),
            status=SessionStatus.ATTENDED,
        )
        for instrument, totals in (("phq9", phq9), ("gad7", gad7)):
            if index < len(totals) and totals[index] is not None:
                score(course, session, instrument, totals[index])
    if area:
        ProblemAreaFactory(course=course, kind=area)
    return course
