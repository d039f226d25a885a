"""The portal pages' reads folded into few queries say what the plain reads say: the home
page's summary (next appointment, homework to do, PHQ-9 due) against the selectors each card
stands for, the homework list's two orders, and each page's fixed number of queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from phases.models import CourseStatus, CourseType, Phase, RelapsePreventionPlan, TreatmentCourse
from portal import selectors
from sessions.models import AssignmentStatus, SessionStatus
from tests.factories import AssignmentFactory, CourseFactory, RelationshipFactory, SessionFactory

# Wednesday 9 December 2026, 10:00 in London (clinic time is UTC).
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _set(course, **fields):
    TreatmentCourse.objects.filter(pk=course.pk).update(**fields)
    course.refresh_from_db()


def _assert_home_as_its_cards_read(patient):
    summary = selectors.portal_home(patient)
    upcoming = selectors.portal_upcoming_sessions(patient).first()
    assert summary.next_session_start == (upcoming.scheduled_start if upcoming else None)
    assert summary.homework_count == selectors.portal_current_assignments(patient).count()
    active = selectors.portal_active_course(patient)
    assert summary.phq9_due == selectors.portal_phq9_due(patient, active)
    return summary


def test_the_home_summary_with_no_course(patient):
    summary = _assert_home_as_its_cards_read(patient)
    assert (summary.next_session_start, summary.homework_count, summary.phq9_due) == (
        None,
        0,
        False,
    )


def test_the_home_summary_reads_as_the_cards_selectors(patient):
    older = CourseFactory(patient=patient, start_date=date(2025, 1, 6))
    AssignmentFactory(course=older, title="Left over from last year")
    _set(older, status=CourseStatus.COMPLETED, ended_at=datetime(2025, 5, 1, tzinfo=UTC))
    course = CourseFactory(patient=patient, start_date=date(2026, 11, 1))
    AssignmentFactory(course=course, due_date=date(2026, 12, 12))
    AssignmentFactory(course=course, due_date=date(2026, 12, 10))
    AssignmentFactory(course=course, status=AssignmentStatus.DONE)
    AssignmentFactory(course=course, status=AssignmentStatus.WITHDRAWN)
    SessionFactory(course=course, scheduled_start=NOW - timedelta(hours=1))  # started already
    SessionFactory(
        course=course,
        scheduled_start=NOW + timedelta(days=8),
        status=SessionStatus.CANCELLED_CLINIC,
    )
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=20))
    _set(course, latest_phq9_at=NOW - timedelta(days=2))
    summary = _assert_home_as_its_cards_read(patient)
    assert summary.homework_count == 3
    assert summary.next_session_start == NOW + timedelta(days=20)
    assert not summary.phq9_due

    # Due before a session within 14 days, at once when overdue, never for maintenance.
    session = SessionFactory(course=course, scheduled_start=NOW + timedelta(days=3))
    _set(course, latest_phq9_at=NOW - timedelta(days=12))
    assert _assert_home_as_its_cards_read(patient).phq9_due
    session.status = SessionStatus.CANCELLED_CLINIC
    session.save()
    assert not _assert_home_as_its_cards_read(patient).phq9_due
    _set(course, latest_phq9_at=NOW - timedelta(days=15))
    assert _assert_home_as_its_cards_read(patient).phq9_due
    _set(course, course_type=CourseType.MAINTENANCE)
    assert not _assert_home_as_its_cards_read(patient).phq9_due
    _set(course, course_type=CourseType.ACUTE, latest_phq9_at=None)  # started 38 days ago
    assert _assert_home_as_its_cards_read(patient).phq9_due
    _set(course, status=CourseStatus.COMPLETED, ended_at=NOW)
    summary = _assert_home_as_its_cards_read(patient)
    assert (summary.next_session_start, summary.phq9_due) == (None, False)


def test_the_homework_list_keeps_each_lists_order(patient, course):
    due = [date(2026, 12, 14), date(2026, 12, 10), date(2026, 12, 10)]
    current = [AssignmentFactory(course=course, due_date=day) for day in due]
    closed = [
        AssignmentFactory(course=course, status=status, completed_at=at)
        for status, at in [
            (AssignmentStatus.DONE, NOW - timedelta(days=9)),
            (AssignmentStatus.NOT_DONE, NOW - timedelta(days=2)),
            (AssignmentStatus.DONE, None),  # closed before the time was kept
            (AssignmentStatus.DONE, NOW - timedelta(days=2)),
        ]
    ]
    AssignmentFactory(course=course, status=AssignmentStatus.WITHDRAWN)
    homework = selectors.portal_homework(patient)
    assert homework.current == [current[1], current[2], current[0]]
    assert homework.current == list(selectors.portal_current_assignments(patient))
    # Latest closed first, in the database's own order of a missing time.
    assert homework.past == list(
        TreatmentCourse.objects.get(pk=course.pk)
        .assignments.filter(status__in=[AssignmentStatus.DONE, AssignmentStatus.NOT_DONE])
        .order_by("-completed_at", "-id")
    )
    assert set(homework.past) == set(closed)


def test_the_plan_is_the_latest_courses_only(patient):
    older = CourseFactory(patient=patient, start_date=date(2025, 1, 6), phase=Phase.COMPLETED)
    _set(older, status=CourseStatus.COMPLETED, ended_at=datetime(2025, 5, 1, tzinfo=UTC))
    RelapsePreventionPlan.objects.create(
        clinic=older.clinic,
        course=older,
        warning_signs="Last year's signs",
        coping_strategies="-",
        if_symptoms_return="-",
    )
    latest = CourseFactory(patient=patient, start_date=date(2026, 11, 1), phase=Phase.TERMINATION)
    assert selectors.portal_relapse_plan(patient) is None
    plan = RelapsePreventionPlan.objects.create(
        clinic=latest.clinic,
        course=latest,
        warning_signs="This year's signs",
        coping_strategies="Walks",
        if_symptoms_return="Call",
    )
    plan.supports.add(RelationshipFactory(patient=patient, name="Aunt Rosa"))
    removed = RelationshipFactory(patient=patient, name="Uncle Len")
    plan.supports.add(removed)
    removed.removed_at = NOW
    removed.save()
    shown = selectors.portal_relapse_plan(patient)
    assert shown == plan and shown.warning_signs == "This year's signs"
    assert [person.name for person in shown.supports.all()] == ["Aunt Rosa"]


@pytest.fixture
def portal_patient(portal_link):
    return portal_link[0].patient


@pytest.mark.parametrize(
    ("page", "queries"),
    [
        # The session, the link (with its patient, their clinic and the latest course's end),
        # the visit's audit event, then the page's own reads.
        ("portal:home", 3 + 2),  # the next session; the courses with all the cards need
        ("portal:homework", 3 + 1),  # both lists
        ("portal:sessions", 3 + 1),
        ("portal:plan", 3 + 2),  # the course with its plan; the people to turn to
    ],
)
def test_each_page_reads_in_a_fixed_number_of_queries(
    page, queries, portal_client, portal_patient, django_assert_num_queries
):
    course = TreatmentCourse.objects.get(patient=portal_patient)
    _set(course, phase=Phase.TERMINATION, latest_phq9_at=NOW - timedelta(days=12))
    plan = RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Signs",
        coping_strategies="Walks",
        if_symptoms_return="Call",
    )
    for name in ("Aunt Rosa", "Sam"):
        plan.supports.add(RelationshipFactory(patient=portal_patient, name=name))
    for day in (2, 9):
        SessionFactory(course=course, scheduled_start=NOW + timedelta(days=day))
        AssignmentFactory(course=course)
        AssignmentFactory(course=course, status=AssignmentStatus.DONE, completed_at=NOW)
    portal_client.get(reverse(page))  # the link's last use is written at most once a minute
    with django_assert_num_queries(queries):
        response = portal_client.get(reverse(page))
    assert response.status_code == 200
