"""The course page's fixed statements (``phases.page_reads``) give what the ORM readings
they stand for give (``access.get_course_page_for_user``, ``selectors``' page reads): the
same rows in the same order, the same values of the same types, the same columns left
unread, the same related rows (the plan, the review, the shared wording and who shared it,
the persons and staff named) and flags; and the course's read refuses whom
``get_scoped_or_404`` refuses. Run on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.access import RecordRefused
from phases import access, page_reads, selectors
from phases.models import (
    DisputeStageEntry,
    FormulationAnswer,
    FormulationShare,
    Phase,
    PhaseTransition,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from tests.factories import (
    CourseFactory,
    GoalFactory,
    MidCourseReviewFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
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
    """A finished course with everything the row reads along (a plan, a review, a wording
    shared now after a withdrawn one, an answer), and the same patient's later course with
    none of it; and a lone course of another patient."""
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist, first_name="<b>Ann</b>")
    full = CourseFactory(patient=patient, phase=Phase.COMPLETED, status="completed")
    RelapsePreventionPlan.objects.create(
        clinic=full.clinic,
        course=full,
        warning_signs="Not <sleeping>",
        coping_strategies="Calls",
        if_symptoms_return="Ring the clinic",
    )
    MidCourseReviewFactory(course=full)
    sharer = UserFactory(clinic=therapist.clinic, first_name="Sam", last_name="Sharer")
    withdrawn = FormulationShare.objects.create(
        clinic=full.clinic,
        course=full,
        text="First <words>",
        shared_by=therapist,
        shared_at=now - timedelta(days=3),
        withdrawn_by=therapist,
        withdrawn_at=now - timedelta(days=2),
    )
    FormulationShare.objects.create(
        clinic=full.clinic, course=full, text="Second words", shared_by=sharer, shared_at=now
    )
    FormulationAnswer.objects.create(
        clinic=full.clinic, course=full, share=withdrawn, answer="agree", at=now
    )
    bare = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    lone = CourseFactory(patient=PatientFactory(primary_therapist=therapist))

    # The full course's lists: phase changes, problem areas (a dispute with a person, one
    # with nobody named, a grief, a removed one, a role transition), goals (one removed),
    # the disputes' stage entries; the bare course has a role transition only.
    for days, to_phase in ((20, Phase.PROBLEM_SOLVING), (30, Phase.INITIAL)):
        PhaseTransition.objects.create(
            clinic=full.clinic,
            course=full,
            kind="advance",
            from_phase=Phase.INITIAL,
            to_phase=to_phase,
            by=sharer if days == 20 else therapist,
            at=now - timedelta(days=days),
            reason="Ready <now>",
        )
    marcus = RelationshipFactory(patient=patient, name="Marcus & <i>co</i>", kind="partner")
    frank = RelationshipFactory(
        patient=patient,
        name="Frank",
        kind="parent",
        deceased=True,
        died_on=(now - timedelta(days=90)).date(),
    )
    dispute = ProblemAreaFactory(
        course=full, kind="role_dispute", other_party=marcus, is_primary=False
    )
    nobody = ProblemAreaFactory(course=full, kind="role_dispute", is_primary=False)
    grief = ProblemAreaFactory(course=full, kind="grief", deceased=frank, is_primary=True)
    ProblemAreaFactory(course=full, kind="role_dispute", removed_at=now)
    transition = ProblemAreaFactory(course=full)
    GoalFactory(problem_area=dispute, text="Talk <calmly>")
    GoalFactory(problem_area=grief)
    GoalFactory(problem_area=transition, removed_at=now)
    for area, stage, days in (
        (dispute, "renegotiation", 3),
        (dispute, "impasse", 10),
        (nobody, "dissolution", 10),
    ):
        DisputeStageEntry.objects.create(
            clinic=full.clinic,
            course=full,
            problem_area=area,
            stage=stage,
            recorded_on=(now - timedelta(days=days)).date(),
            note="Shouting <less>",
            by=sharer,
            at=now - timedelta(days=days),
        )
    ProblemAreaFactory(course=bare)
    return {"full": full, "bare": bare, "lone": lone}


def _course(pk, user) -> TreatmentCourse:
    course = page_reads.course_page_course(user, pk)
    expected = access.get_course_page_for_user(user, pk)
    _same(
        course,
        expected,
        "page_answered",
        "page_other_courses",
        "page_review_id",
        "page_share_id",
    )
    for name in ("clinic", "patient", "therapist"):
        _same_related(course, expected, name)
    assert course.patient.clinic is course.clinic
    # A filtered relation's row is set only when there is one, with its course.
    for name in ("page_review", "page_share"):
        assert hasattr(course, name) == hasattr(expected, name), name
        if hasattr(expected, name):
            _same_related(course, expected, name)
            assert getattr(expected, name).course is expected
            assert getattr(course, name).course is course
    if hasattr(expected, "page_share"):
        _same_related(course.page_share, expected.page_share, "shared_by")
    with CaptureQueriesContext(connection) as queries:
        try:
            expected_plan = expected.relapse_plan
        except RelapsePreventionPlan.DoesNotExist:
            expected_plan = None
            with pytest.raises(RelapsePreventionPlan.DoesNotExist):
                course.relapse_plan  # noqa: B018 - the attribute's answer is the point
        else:
            _same(course.relapse_plan, expected_plan)
            assert course.relapse_plan.course is course
    assert len(queries) == 0
    return course


def test_the_course_with_what_its_row_reads_along_as_the_orm_reads_it(
    courses, therapist, clinic_admin
):
    for visitor in (therapist, clinic_admin):
        for course in courses.values():
            _course(course.pk, visitor)
            _course(str(course.pk), visitor)
    full = _course(courses["full"].pk, therapist)
    assert full.page_answered and full.page_other_courses
    assert full.page_share.text == "Second words"
    assert full.page_share.shared_by.first_name == "Sam"
    assert full.page_review.course is full
    bare = _course(courses["bare"].pk, therapist)
    assert not bare.page_answered and bare.page_other_courses
    assert bare.page_review_id is None and bare.page_share_id is None
    lone = _course(courses["lone"].pk, clinic_admin)
    assert not lone.page_other_courses


def test_the_course_read_refuses_whom_the_access_check_refuses(
    courses, other_therapist, other_clinic_admin
):
    course = courses["full"]
    inactive = UserFactory(clinic=course.clinic, is_active=False)
    for visitor, asked in (
        (other_therapist, course.pk),
        (other_clinic_admin, course.pk),
        (inactive, course.pk),
        (course.therapist, course.pk + 1000),
        (course.therapist, 2**63),
        (course.therapist, -(2**63) - 1),
        (course.therapist, "x"),
        (course.therapist, None),
    ):
        with pytest.raises(RecordRefused):
            access.get_course_page_for_user(visitor, asked)
        with pytest.raises(RecordRefused) as refused:
            page_reads.course_page_course(visitor, asked)
        assert refused.value.record_id == asked


def test_the_course_lists_as_the_orm_reads_them(courses):
    for course in courses.values():
        read, expected = (
            page_reads.course_transitions(course),
            list(
                selectors._page_reads()["transitions"].filter(
                    clinic_id=course.clinic_id, course=course
                )
            ),
        )
        assert [t.pk for t in read] == [t.pk for t in expected]
        for transition, reference in zip(read, expected, strict=True):
            _same(transition, reference)
            _same_related(transition, reference, "by")

        read, expected = page_reads.course_goals(course), selectors.course_goals(course)
        assert [g.pk for g in read] == [g.pk for g in expected]
        for goal, reference in zip(read, expected, strict=True):
            _same(goal, reference)

        (areas, entries), (expected_areas, expected_entries) = (
            page_reads.course_problem_area_rows(course),
            selectors.problem_area_rows(course),
        )
        assert [a.pk for a in areas] == [a.pk for a in expected_areas]
        for area, reference in zip(areas, expected_areas, strict=True):
            _same(area, reference)
            _same_related(area, reference, "deceased")
            _same_related(area, reference, "other_party")
        assert [e.pk for e in entries] == [e.pk for e in expected_entries]
        for entry, reference in zip(entries, expected_entries, strict=True):
            _same(entry, reference)
            _same_related(entry, reference, "by")
    full = courses["full"]
    assert len(page_reads.course_transitions(full)) == 2
    assert len(page_reads.course_goals(full)) == 2
    areas, entries = page_reads.course_problem_area_rows(full)
    assert len(areas) == 4 and areas[0].deceased.name == "Frank"
    assert [e.stage for e in entries] == ["impasse", "dissolution", "renegotiation"]
    assert page_reads.course_problem_area_rows(courses["bare"])[1] == []
