"""The note form's fixed statements (sessions/note_reads.py) give what their ORM counterparts
give: the same rows in the same order, each with the same values of the same types, the same
fields deferred, the same related rows and the same annotations. Run on SQLite and on
PostgreSQL (DATABASE_URL), over a course with something of every kind the reads sort out:
removed rows, other sessions' and other courses' rows, outer joins that find nothing,
several stage entries at the session, ties in the orderings, and hostile text."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from phases.models import DisputeStageEntry, Goal, Phase
from sessions import note_reads, selectors, services, worksheets
from sessions.models import GoalReview, Measure, Worksheet
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"quotes\" — ünïcode"


def _loaded(instance) -> dict:
    """Every loaded field's value with its type, and which fields are deferred."""
    deferred = instance.get_deferred_fields()
    values = {
        field.attname: (getattr(instance, field.attname), type(getattr(instance, field.attname)))
        for field in type(instance)._meta.concrete_fields
        if field.attname not in deferred
    }
    return {"class": type(instance), "values": values, "deferred": deferred}


def _same(got, want, *, related=(), extra=()) -> None:
    assert len(got) == len(want)
    for loaded, expected in zip(got, want, strict=True):
        assert _loaded(loaded) == _loaded(expected)
        for name in related:
            mine, theirs = getattr(loaded, name), getattr(expected, name)
            assert (mine is None) == (theirs is None), name
            if theirs is not None:
                assert _loaded(mine) == _loaded(theirs), name
        for name in extra:
            assert (getattr(loaded, name), type(getattr(loaded, name))) == (
                getattr(expected, name),
                type(getattr(expected, name)),
            ), name


@pytest.fixture
def scene(therapist):
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    marcus = RelationshipFactory(patient=patient, name=HOSTILE, kind="partner")
    dispute = ProblemAreaFactory(
        course=course, kind="role_dispute", other_party=marcus, old_role="", new_role=""
    )
    lone_dispute = ProblemAreaFactory(
        course=course, kind="role_dispute", is_primary=True, old_role="", new_role=""
    )
    transition = ProblemAreaFactory(course=course, notes=HOSTILE)
    ProblemAreaFactory(course=course, removed_at=now)
    ProblemAreaFactory(course=other_course)
    earliest = SessionFactory(course=course, scheduled_start=now - timedelta(days=14))
    earlier = SessionFactory(course=course, scheduled_start=now - timedelta(days=7))
    session = SessionFactory(course=course, scheduled_start=now - timedelta(hours=1))
    later = SessionFactory(course=course, scheduled_start=now + timedelta(days=7))
    elsewhere = SessionFactory(course=other_course, scheduled_start=now - timedelta(days=2))
    note = services.note_start(session=session, by=therapist)

    # Stage entries: two at this session for one dispute (the latest kept), one elsewhere.
    for stage, at, at_session in (
        ("impasse", now - timedelta(minutes=30), session.pk),
        ("renegotiation", now - timedelta(minutes=10), session.pk),
        ("dissolution", now - timedelta(days=7), earlier.pk),
    ):
        DisputeStageEntry.objects.create(
            clinic=course.clinic,
            course=course,
            problem_area=dispute,
            stage=stage,
            recorded_on=date(2026, 1, 1),
            session_id=at_session,
            note=HOSTILE,
            by=therapist,
            at=at,
        )

    # Goals: one reviewed here, one reviewed elsewhere, one not at all, one removed.
    reviewed = GoalFactory(problem_area=dispute, text=HOSTILE)
    reviewed_elsewhere = GoalFactory(problem_area=transition)
    GoalFactory(problem_area=transition, progress=40)
    GoalFactory(problem_area=transition, removed_at=now)
    GoalFactory(problem_area=ProblemAreaFactory(course=other_course))
    for goal, at_session, progress in ((reviewed, session, 60), (reviewed_elsewhere, earlier, 20)):
        GoalReview.objects.create(
            clinic=course.clinic,
            session=at_session,
            goal=goal,
            progress=progress,
            status="open",
            reviewed_by=therapist,
            reviewed_at=now,
        )

    # Homework: set earlier (same due date: the id breaks the tie), set here, set in no
    # session, reviewed here, reviewed in another session, withdrawn, another course's.
    due = timezone.localdate()
    AssignmentFactory(course=course, session=earlier, due_date=due, title=HOSTILE)
    AssignmentFactory(course=course, session=earliest, due_date=due, reflection=HOSTILE)
    AssignmentFactory(course=course, session=session, due_date=due - timedelta(days=1))
    AssignmentFactory(course=course, session=None, due_date=due + timedelta(days=3))
    AssignmentFactory(course=course, session=earliest, reviewed_in=session, status="done")
    AssignmentFactory(course=course, session=earliest, reviewed_in=earlier, status="done")
    AssignmentFactory(course=course, session=earlier, status="withdrawn")
    AssignmentFactory(course=course, session=later)
    AssignmentFactory(course=other_course, session=elsewhere)
    linked = AssignmentFactory(course=course, session=earlier, title="From a role play")

    # Worksheets: here (two), earlier ones with and without a person and homework, a later
    # session's, a removed one, another course's.
    def worksheet(at_session, area, **fields):
        return Worksheet.objects.create(
            clinic=course.clinic,
            course=at_session.course,
            session=at_session,
            problem_area=area,
            created_by=therapist,
            **fields,
        )

    worksheet(
        session, dispute, kind="communication_analysis", relationship=marcus, incident=HOSTILE
    )
    worksheet(session, transition, kind="decision_analysis", decision="Move?", options=[])
    worksheet(earlier, dispute, kind="role_play", scene=HOSTILE, assignment=linked)
    worksheet(earlier, lone_dispute, kind="communication_analysis", relationship=marcus)
    worksheet(earliest, transition, kind="decision_analysis", decision="Stay?")
    worksheet(later, transition, kind="decision_analysis", decision="Later")
    worksheet(earlier, transition, kind="decision_analysis", removed_at=now)
    worksheet(elsewhere, _area_of(other_course), kind="decision_analysis")

    # Risk flags: open (acknowledged or not), closed in this note, closed elsewhere, another
    # patient's.
    def measure(course_, taken_at, **fields):
        return Measure.objects.create(
            clinic=course_.clinic,
            course=course_,
            instrument="phq9",
            answers=[1, 1, 1, 1, 1, 1, 1, 1, 2],
            total=10,
            severity="moderate",
            taken_at=taken_at,
            **fields,
        )

    measure(course, now - timedelta(days=3), risk_flag=True)
    measure(
        course,
        now - timedelta(days=3),
        risk_flag=True,
        risk_acknowledged_by=therapist,
        risk_acknowledged_at=now,
    )
    measure(
        course,
        now - timedelta(days=5),
        risk_flag=True,
        risk_acknowledged_by=therapist,
        risk_acknowledged_at=now,
        risk_responded_by=therapist,
        risk_responded_at=now,
        risk_action="safety_plan",
        risk_response=HOSTILE,
        risk_closed_in_note=note,
    )
    measure(course, now - timedelta(days=6), risk_flag=True, risk_responded_at=now)
    measure(course, now - timedelta(days=6))
    measure(other_course, now - timedelta(days=1), risk_flag=True)
    return session, note


def _area_of(course):
    return ProblemAreaFactory(course=course)


def _session(session):
    """The session as the note form reads it (its access check's query)."""
    from sessions.models import TherapySession

    return (
        TherapySession.objects.select_related("course__patient", "clinic", "note")
        .only(*selectors.SESSION_WITH_NOTE_FIELDS)
        .get(pk=session.pk)
    )


def test_worksheets_as_the_orm_reads_them(scene):
    session = _session(scene[0])
    own, earlier = note_reads.note_worksheets(session)
    want_own, want_earlier = worksheets.note_worksheets(session)
    related = ("session", "problem_area", "relationship", "assignment")
    assert len(own) == 2 and len(earlier.last) == 2 and len(earlier.older) == 1
    _same(own, want_own, related=related, extra=("summary",))
    _same(earlier.last, want_earlier.last, related=related, extra=("rows",))
    _same(earlier.older, want_earlier.older, related=related, extra=("rows",))
    linked = next(w for w in earlier if w.assignment_id is not None)
    assert linked.assignment.worksheet is linked


def test_goals_as_the_orm_reads_them(scene):
    session = _session(scene[0])
    goals = note_reads.goals_for_review(session)
    assert [g.review_progress for g in goals] == [60, None, None]
    _same(goals, selectors.goals_for_review(session), extra=("review_progress", "review_status"))
    assert all(type(g) is Goal for g in goals)


def test_problem_areas_as_the_orm_reads_them(scene):
    session = _session(scene[0])
    areas = note_reads.note_problem_areas(session)
    want = selectors.note_problem_areas(session)
    extra = (
        "entry_stage",
        "entry_note",
        "entry_at",
        "entry_id",
        "session_stage",
        "session_stage_note",
        "session_stage_label",
        "other_name",
    )
    assert len(areas.live) == 3 and len(areas.disputes) == 2
    assert sorted(str(a.session_stage) for a in areas.disputes) == ["None", "renegotiation"]
    _same(areas.live, want.live, related=("other_party",), extra=extra)
    _same(areas.disputes, want.disputes, related=("other_party",), extra=extra)


def test_homework_as_the_orm_reads_it(scene):
    session = _session(scene[0])
    homework = note_reads.homework_for_review(session)
    assert len(homework) == 5
    _same(homework, selectors.homework_for_review(session), extra=("set_at",))


def test_risk_flags_as_the_orm_reads_them(scene):
    session, note = scene
    patient_id = session.course.patient_id
    flags = note_reads.note_risk_flags(note, patient_id=patient_id)
    want = selectors.note_risk_flags(note, patient_id=patient_id)
    related = ("risk_acknowledged_by", "risk_responded_by")
    assert len(flags.open) == 2 and len(flags.closed) == 1
    _same(flags.open, want.open, related=related)
    _same(flags.closed, want.closed, related=related)


def test_an_empty_course_reads_nothing(therapist):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = services.note_start(session=session, by=therapist)
    session = _session(session)
    own, earlier = note_reads.note_worksheets(session)
    assert own == [] and not earlier and list(earlier) == []
    assert note_reads.goals_for_review(session) == []
    assert note_reads.note_problem_areas(session).live == []
    assert note_reads.homework_for_review(session) == []
    flags = note_reads.note_risk_flags(note, patient_id=course.patient_id)
    assert flags.open == [] and flags.closed == []
