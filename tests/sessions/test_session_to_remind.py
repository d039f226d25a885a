"""The reminder's read of its session, written as one fixed statement for its measured speed
(``sessions.notices.session_to_remind``), gives what the ORM's query of the same columns
gives, on SQLite and PostgreSQL alike: the loaded fields with the same values and types
(an aware start time), the others deferred, the course's status, and nothing for a session
that is gone."""

from datetime import UTC, datetime

import pytest
from django.db.models import F

from phases.models import CourseStatus, TreatmentCourse
from sessions.models import SessionStatus, TherapySession
from sessions.notices import session_to_remind
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

# What the statement stands for, through the ORM.
BY_ORM = (
    TherapySession.objects.annotate(course_status=F("course__status"))
    .only("id", "status", "scheduled_start", "duration_minutes")
    .order_by()
)
LOADED = ("id", "status", "scheduled_start", "duration_minutes", "course_status")


def _same(read: TherapySession, by_orm: TherapySession) -> None:
    assert type(read) is type(by_orm)
    assert read.get_deferred_fields() == by_orm.get_deferred_fields()
    for name in LOADED:
        got, want = getattr(read, name), getattr(by_orm, name)
        assert (got, type(got)) == (want, type(want)), name


@pytest.mark.parametrize(
    ("status", "course_status"),
    [
        (SessionStatus.SCHEDULED, CourseStatus.ACTIVE),
        (SessionStatus.CANCELLED_CLINIC, CourseStatus.ACTIVE),
        (SessionStatus.ATTENDED, CourseStatus.ACTIVE),
        (SessionStatus.SCHEDULED, CourseStatus.COMPLETED),
    ],
)
def test_it_reads_what_the_orm_reads(course, status, course_status):
    start = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    session = SessionFactory(course=course, scheduled_start=start, duration_minutes=75)
    TherapySession.objects.filter(pk=session.pk).update(status=status)
    TreatmentCourse.objects.filter(pk=course.pk).update(status=course_status)
    SessionFactory(course=course)  # another session of the course, not read

    read = session_to_remind(session.pk)

    _same(read, BY_ORM.filter(pk=session.pk).first())
    assert (read.pk, read.status, read.scheduled_start, read.course_status) == (
        session.pk,
        status,
        start,
        course_status,
    )
    assert read.scheduled_start.utcoffset() is not None


def test_a_session_that_is_gone_reads_as_none(course):
    session = SessionFactory(course=course)
    TherapySession.objects.filter(pk=session.pk).delete()
    assert session_to_remind(session.pk) is None
    assert BY_ORM.filter(pk=session.pk).first() is None
