"""The session page's fixed statements (``sessions.page_reads``) give what the ORM readings
they stand for give (``selectors``, ``worksheets``, ``homework.with_entries``): the same rows
in the same order, the same values of the same types, the same columns left unread, the same
related rows and figures; and the session's read refuses whom ``get_scoped_or_404`` refuses.
Run on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.access import RecordRefused
from phases.models import DisputeStageEntry, Phase
from sessions import homework, page_reads, selectors, services, worksheets
from sessions.models import Measure, NoteAddendum, SessionNote
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


@pytest.fixture
def held(therapist):
    """A middle-phase session held an hour ago, its note signed, with everything its page
    lists, hostile text included."""
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist, first_name="<b>Ann</b>")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    marcus = RelationshipFactory(patient=patient, name="Marcus & <i>co</i>", kind="partner")
    dispute = ProblemAreaFactory(
        course=course, kind="role_dispute", other_party=marcus, is_primary=True
    )
    nobody = ProblemAreaFactory(course=course, kind="role_dispute", is_primary=False)
    ProblemAreaFactory(course=course, kind="role_transition", is_primary=False)
    earlier = SessionFactory(
        course=course, scheduled_start=now - timedelta(days=7), status="attended"
    )
    session = SessionFactory(
        course=course,
        scheduled_start=now - timedelta(hours=1),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    later = SessionFactory(course=course, scheduled_start=now + timedelta(days=6))
    note = services.note_start(session=session, by=therapist)

    kwargs = {"by": therapist, "problem_area": dispute, "relationship": marcus}
    first = worksheets.worksheet_create(
        session=session, kind="communication_analysis", incident="The <late> dinner", **kwargs
    )
    worksheets.worksheet_create(
        session=session,
        kind="role_play",
        scene="Asking <Marcus> for a text",
        roles="Herself; the therapist as Marcus",
        rehearsed="Saying 'I worry'",
        how_it_went="Easier the second time",
        follow_on="Say it once this week.",
        **kwargs,
    )
    worksheets.worksheet_create(
        session=earlier, kind="communication_analysis", incident="Earlier", **kwargs
    )
    first.removed_at = now
    first.save(update_fields=["removed_at"])

    # Homework: reviewed here, set before and still open, set here (one with its person and
    # problem area), withdrawn, reviewed in another session, set in a later one.
    reviewed = AssignmentFactory(course=course, session=earlier)
    AssignmentFactory(course=course, session=earlier, status="withdrawn")
    logged = AssignmentFactory(course=course, session=earlier, kind="log", title="Mood <log>")
    AssignmentFactory(course=course, session=None, title="Set in no session")
    AssignmentFactory(
        course=course, session=session, relationship=marcus, problem_area=dispute, title="Here"
    )
    AssignmentFactory(course=course, session=earlier, reviewed_in=later)
    AssignmentFactory(course=course, session=later, title="Later")
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

    for stage, text, minutes in (("renegotiation", "Later", 30), ("impasse", "First", 10)):
        DisputeStageEntry.objects.create(
            clinic=dispute.clinic,
            course=course,
            problem_area=dispute,
            stage=stage,
            recorded_on=now.date(),
            session_id=session.pk,
            note=text,
            by=therapist,
            at=now - timedelta(minutes=60 - minutes),
        )
    DisputeStageEntry.objects.create(
        clinic=dispute.clinic,
        course=course,
        problem_area=nobody,
        stage="dissolution",
        recorded_on=now.date(),
        session_id=earlier.pk,
        note="Another session",
        by=therapist,
        at=now,
    )

    signer = UserFactory(clinic=therapist.clinic, first_name="Sam", last_name="Signer")
    _measure(session, flagged=True, superseded_at=now)
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
    _measure(earlier)

    SessionNote.objects.filter(pk=note.pk).update(
        signed_at=now, signed_by=therapist, signer=signer, focus_problem_area=dispute
    )
    for minutes in (2, 1):
        NoteAddendum.objects.create(
            clinic=session.clinic, note=note, author=signer, text=f"Added <{minutes}>"
        )
    return {"session": session, "earlier": earlier, "later": later, "course": course}


def _session_and_note(pk, user):
    session, note = page_reads.session_page(pk, user)
    expected = selectors.session_page(pk, user)
    _same(session, expected, "status_rank")
    for name in ("course", "clinic", "therapist"):
        _same_related(session, expected, name)
    _same_related(session.course, expected.course, "patient")
    assert session.course.patient.clinic is session.clinic
    expected_note = getattr(expected, "note", None)
    if expected_note is None:
        assert note is None
    else:
        _same(note, expected_note)
        assert session.note is note
        for name in ("focus_problem_area", "signed_by", "signer"):
            _same_related(note, expected_note, name)
    return session, expected


def test_the_session_with_its_note_and_people_as_the_orm_reads_it(held, therapist, clinic_admin):
    for visitor in (therapist, clinic_admin):
        for session in (held["session"], held["earlier"], held["later"]):
            _session_and_note(session.pk, visitor)
            _session_and_note(str(session.pk), visitor)


def test_the_session_read_refuses_whom_the_access_check_refuses(
    held, other_therapist, other_clinic_admin
):
    pk = held["session"].pk
    for visitor, asked in (
        (other_therapist, pk),
        (other_clinic_admin, pk),
        (held["session"].therapist, pk + 1000),
        (held["session"].therapist, 2**63),
        (held["session"].therapist, -(2**63) - 1),
        (held["session"].therapist, "x"),
        (held["session"].therapist, None),
    ):
        with pytest.raises(RecordRefused):
            selectors.session_page(asked, visitor)
        with pytest.raises(RecordRefused) as refused:
            page_reads.session_page(asked, visitor)
        assert refused.value.record_id == asked


def test_the_questionnaires_and_open_flags_as_the_orm_reads_them(held):
    for session in (held["session"], held["earlier"], held["later"]):
        read = page_reads.session_questionnaires(session)
        expected = selectors.session_questionnaires(session)
        for got, want in ((read.listed, expected.listed), (read.open_flags, expected.open_flags)):
            assert [m.pk for m in got] == [m.pk for m in want]
            for measure, reference in zip(got, want, strict=True):
                _same(measure, reference)
                _same_related(measure, reference, "risk_responded_by")
                _same_related(measure, reference, "risk_acknowledged_by")
    assert len(page_reads.session_questionnaires(held["session"]).listed) == 2


def test_the_homework_lists_with_their_entries_as_the_orm_reads_them(held):
    for session in (held["session"], held["earlier"], held["later"]):
        read = page_reads.session_homework(session)
        expected = selectors.session_homework(session)
        homework.with_entries({a.pk: a for a in expected.set_here + expected.for_review}.values())
        for got, want in (
            (read.set_here, expected.set_here),
            (read.for_review, expected.for_review),
        ):
            assert [a.pk for a in got] == [a.pk for a in want]
            for assignment, reference in zip(got, want, strict=True):
                _same(assignment, reference, "set_at")
                _same_related(assignment, reference, "relationship")
                _same_related(assignment, reference, "problem_area")
                assert [e.pk for e in assignment.entry_list] == [e.pk for e in reference.entry_list]
                for entry, entry_reference in zip(
                    assignment.entry_list, reference.entry_list, strict=True
                ):
                    _same(entry, entry_reference)
    read = page_reads.session_homework(held["session"])
    assert [a.title for a in read.set_here] == ["Here"]
    assert sum(len(a.entry_list) for a in read.for_review) == 4


def test_the_addenda_as_the_orm_reads_them(held):
    note = SessionNote.objects.get(session=held["session"])
    read, expected = page_reads.note_addenda(note), selectors.note_addenda(note)
    assert [a.pk for a in read] == [a.pk for a in expected] and len(read) == 2
    for addendum, reference in zip(read, expected, strict=True):
        _same(addendum, reference)
        _same_related(addendum, reference, "author")
    note.signed_at = None
    assert page_reads.note_addenda(note) == [] == page_reads.note_addenda(None)


def test_the_disputes_with_their_stage_at_the_session_as_the_orm_reads_them(held):
    for session in (held["session"], held["earlier"], held["later"]):
        read, expected = page_reads.disputes_for_note(session), selectors.disputes_for_note(session)
        assert [a.pk for a in read] == [a.pk for a in expected] and len(read) == 2
        for area, reference in zip(read, expected, strict=True):
            _same(
                area,
                reference,
                "entry_stage",
                "entry_note",
                "entry_at",
                "entry_id",
                "session_stage",
                "session_stage_note",
                "session_stage_label",
                "other_name",
            )
            _same_related(area, reference, "other_party")
    (first, _) = page_reads.disputes_for_note(held["session"])
    assert (first.session_stage, first.session_stage_note) == ("renegotiation", "Later")


def test_the_worksheets_as_the_orm_reads_them(held):
    for session in (held["session"], held["earlier"], held["later"]):
        read = page_reads.session_worksheets(session)
        expected = worksheets.session_worksheets(session)
        assert [w.pk for w in read] == [w.pk for w in expected]
        for worksheet, reference in zip(read, expected, strict=True):
            _same(worksheet, reference, "summary")
            assert worksheet.session is session
            for name in ("problem_area", "relationship", "assignment"):
                _same_related(worksheet, reference, name)
    assert len(page_reads.session_worksheets(held["session"])) == 1
