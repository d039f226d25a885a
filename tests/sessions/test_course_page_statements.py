"""The course page's fixed statements of the sessions layer (``sessions.course_reads``)
give what the ORM readings they stand for give (``homework.course_homework`` with
``homework.with_entries``, ``selectors.course_sessions``, ``selectors.course_chart_data``
with the open risk flags): the same rows in the same order, the same values of the same
types, the same columns left unread, the same related rows. Run on SQLite and on
PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import LifeEvent
from phases.models import Phase
from sessions import course_reads, homework, selectors, services
from sessions.models import Measure, SessionNote
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
    UserFactory,
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

    # Sessions: held with a signed note, held with a draft, missed, one past and never
    # marked, one to come; scores (superseded ones, open, acknowledged and answered flags).
    later = SessionFactory(course=course, scheduled_start=now + timedelta(days=6))
    SessionFactory(course=course, scheduled_start=now - timedelta(days=3), status="no_show")
    SessionFactory(course=course, scheduled_start=now - timedelta(days=2))
    note = services.note_start(session=earlier, by=therapist)
    SessionNote.objects.filter(pk=note.pk).update(signed_at=now, signed_by=therapist)
    services.note_start(session=session, by=therapist)
    signer = UserFactory(clinic=therapist.clinic, first_name="Sam", last_name="<Signer>")
    _measure(earlier, flagged=True, superseded_at=now)
    _measure(
        earlier, flagged=True, minutes=7, risk_acknowledged_by=signer, risk_acknowledged_at=now
    )
    _measure(
        session,
        flagged=True,
        minutes=10,
        risk_acknowledged_by=therapist,
        risk_acknowledged_at=now,
        risk_responded_by=signer,
        risk_responded_at=now,
        risk_action="other",
        risk_response="Plan <reviewed>",
    )
    _measure(session, minutes=15)
    _measure(session, minutes=20, superseded_at=now)
    _measure(session, flagged=True, minutes=25)
    for days, removed in ((30, None), (10, now), (20, None)):
        LifeEvent.objects.create(
            clinic=patient.clinic,
            patient=patient,
            occurred_on=(now - timedelta(days=days)).date(),
            description="Moved <house>",
            removed_at=removed,
        )
    return {"course": course, "other": other, "bare": bare, "later": later}


def _measure(session, *, flagged=False, minutes=5, **fields) -> Measure:
    answers = [1, 1, 1, 1, 1, 1, 1, 1, 2 if flagged else 0]
    return Measure.objects.create(
        clinic=session.clinic,
        course=session.course,
        session=session,
        instrument="phq9",
        answers=answers,
        total=sum(answers),
        severity="mild",
        risk_flag=flagged,
        taken_at=session.scheduled_start + timedelta(minutes=minutes),
        entered_by=session.therapist,
        **fields,
    )


def test_the_course_sessions_as_the_orm_reads_them(courses):
    for name in ("course", "other", "bare"):
        course = courses[name]
        read = course_reads.course_sessions(course)
        expected = selectors.course_sessions(course)
        assert [s.pk for s in read] == [s.pk for s in expected]
        for session, reference in zip(read, expected, strict=True):
            _same(session, reference, "status_rank", "is_booster", "note_pk", "note_signed_at")
            assert session.course is course
    read = course_reads.course_sessions(courses["course"])
    assert len(read) == 5 and sum(s.note_pk is not None for s in read) == 2
    assert sum(s.note_signed_at is not None for s in read) == 1


def test_the_chart_and_open_flags_as_the_orm_reads_them(courses):
    for name in ("course", "other", "bare"):
        course = courses[name]
        sessions = selectors.course_sessions(course)
        for transitions in (None, []):
            read = course_reads.course_chart_data(course, sessions, transitions)
            expected = selectors.course_chart_data(
                course, sessions, transitions, with_open_risk_flags=True
            )
            assert read.course is course
            assert read.transitions == expected.transitions
            assert read.session_ordinals == expected.session_ordinals
            for got, want in (
                (read.measures, expected.measures),
                (read.open_risk_flags, expected.open_risk_flags),
                (read.life_events, expected.life_events),
            ):
                assert [m.pk for m in got] == [m.pk for m in want]
                for row, reference in zip(got, want, strict=True):
                    _same(row, reference)
            for flag, reference in zip(read.open_risk_flags, expected.open_risk_flags, strict=True):
                if reference.risk_acknowledged_by_id is not None:
                    _same_related(flag, reference, "risk_acknowledged_by")
    read = course_reads.course_chart_data(courses["course"], [], [])
    assert len(read.measures) == 4 and len(read.open_risk_flags) == 3
    assert len(read.life_events) == 2
    assert read.open_risk_flags[1].risk_acknowledged_by.last_name == "<Signer>"


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
