"""The course page's fixed statements of the sessions layer (``sessions.course_reads``)
give what the ORM readings they stand for give (``homework.course_homework`` with
``homework.with_entries``): the same rows in the same order, the same values of the same
types, the same columns left unread, the same related rows. Run on SQLite and on
PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from phases.models import Phase
from sessions import course_reads, homework
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def _same(loaded, expected, *extra: str) -> None:
    """The same row read the same way: type, deferred columns, every loaded value with its
    type, and the ``extra`` attributes set on it."""
    assert type(loaded) is type(expected)
    assert loaded.get_deferred_fields() == expected.get_deferred_fields()
    deferred = expected.get_deferred_fields()
    for field in type(expected)._meta.concrete_fields:
        if field.attname in deferred:
            continue
        got, want = getattr(loaded, field.attname), getattr(expected, field.attname)
        assert (got, type(got)) == (want, type(want)), field.name
    for name in extra:
        got, want = getattr(loaded, name), getattr(expected, name)
        assert (got, type(got)) == (want, type(want)), name


def _same_related(loaded, expected, name: str) -> None:
    got, want = getattr(loaded, name), getattr(expected, name)
    if want is None:
        assert got is None, name
    else:
        _same(got, want)


@pytest.fixture
def courses(therapist):
    """A course with homework of every kind (set in a session or none, reviewed or not,
    withdrawn, with a person and a problem area, with entries, hostile text included), and
    a course without any; another course's homework beside them."""
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    marcus = RelationshipFactory(patient=patient, name="Marcus & <i>co</i>", kind="partner")
    dispute = ProblemAreaFactory(course=course, kind="role_dispute", other_party=marcus)
    earlier = SessionFactory(
        course=course, scheduled_start=now - timedelta(days=7), status="attended"
    )
    session = SessionFactory(
        course=course, scheduled_start=now - timedelta(hours=1), status="attended"
    )
    reviewed = AssignmentFactory(course=course, session=earlier)
    AssignmentFactory(course=course, session=earlier, status="withdrawn")
    logged = AssignmentFactory(course=course, session=earlier, kind="log", title="Mood <log>")
    AssignmentFactory(course=course, session=None, title="Set in no session")
    AssignmentFactory(
        course=course, session=session, relationship=marcus, problem_area=dispute, title="Here"
    )
    for number in range(3):
        homework.homework_entry_add(
            assignment=logged,
            values={
                "entry_date": (now - timedelta(days=5 - number)).date(),
                "mood": number,
                "people": f"Person {number}",
                "happened": "A <script> day",
            },
        )
    homework.homework_entry_add(
        assignment=reviewed,
        values={"said": "Can we talk?", "response": "Later", "feeling": 6, "next_time": "-"},
    )
    reviewed.reviewed_in = session
    reviewed.save(update_fields=["reviewed_in"])
    other = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    homework.homework_entry_add(
        assignment=AssignmentFactory(course=other, kind="log"),
        values={"entry_date": now.date(), "mood": 5, "people": "-", "happened": "-"},
    )
    bare = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    return {"course": course, "other": other, "bare": bare}


def test_the_course_homework_with_its_entries_as_the_orm_reads_it(courses):
    for course in courses.values():
        read = course_reads.course_homework(course)
        expected = homework.with_entries(homework.course_homework(course))
        assert [a.pk for a in read] == [a.pk for a in expected]
        for assignment, reference in zip(read, expected, strict=True):
            _same(assignment, reference)
            _same_related(assignment, reference, "session")
            _same_related(assignment, reference, "reviewed_in")
            assert [e.pk for e in assignment.entry_list] == [e.pk for e in reference.entry_list]
            for entry, entry_reference in zip(
                assignment.entry_list, reference.entry_list, strict=True
            ):
                _same(entry, entry_reference)
    read = course_reads.course_homework(courses["course"])
    assert len(read) == 5 and sum(len(a.entry_list) for a in read) == 4
    assert len(course_reads.course_homework(courses["other"])[0].entry_list) == 1
    assert course_reads.course_homework(courses["bare"]) == []
