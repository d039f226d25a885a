"""The therapist's home: caseload by phase, session N of M, next session, and the flags."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from caseload.home_selectors import caseload_courses, course_flags
from phases.models import Phase
from sessions.models import Measure
from tests.factories import (
    CourseFactory,
    MidCourseReviewFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def _course(therapist, *, phase=Phase.PROBLEM_SOLVING, attended=0, planned=16, area=True, **kw):
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist, **kw),
        phase=phase,
        planned_sessions=planned,
    )
    if area:
        ProblemAreaFactory(course=course)
    now = timezone.now()
    for i in range(attended):
        SessionFactory(
            course=course,
            status="attended",
            scheduled_start=now - timedelta(days=7 * (attended - i)),
        )
    return course


def _phq9(course, *, days_ago, risk=False, responded=False):
    return Measure.objects.create(
        clinic=course.clinic,
        course=course,
        instrument="phq9",
        answers=[1] * 8 + [1 if risk else 0],
        total=9,
        severity="mild",
        risk_flag=risk,
        taken_at=timezone.now() - timedelta(days=days_ago, hours=-1),
        risk_responded_at=timezone.now() if responded else None,
    )


def _flags(therapist, course) -> list[str]:
    annotated = next(c for c in caseload_courses(therapist) if c.pk == course.pk)
    return [text for _, text in course_flags(annotated)]


def test_it_counts_attended_sessions_and_shows_the_next_one(therapist):
    course = _course(therapist, attended=3, planned=12)
    SessionFactory(
        course=course, status="no_show", scheduled_start=timezone.now() - timedelta(days=1)
    )
    later = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=9))
    soon = SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=2))
    SessionFactory(
        course=course, status="cancelled_clinic", scheduled_start=timezone.now() + timedelta(days=1)
    )
    annotated = caseload_courses(therapist).get(pk=course.pk)
    assert annotated.attended_sessions == 3
    assert annotated.next_session_at == soon.scheduled_start
    assert later.scheduled_start > soon.scheduled_start


def test_it_flags_no_problem_area_by_session_4(therapist):
    late = _course(therapist, phase=Phase.SOCIAL, attended=4, area=False)
    early = _course(therapist, phase=Phase.SOCIAL, attended=3, area=False)
    fine = _course(therapist, phase=Phase.SOCIAL, attended=4, area=True)
    for course in (late, early, fine):
        _phq9(course, days_ago=1)
    assert _flags(therapist, late) == ["No problem area by session 4"]
    assert _flags(therapist, early) == []
    assert _flags(therapist, fine) == []


def test_it_flags_no_phq9_in_the_last_4_sessions(therapist):
    stale = _course(therapist, attended=6)  # sessions 42, 35, 28, 21, 14, 7 days ago
    _phq9(stale, days_ago=36)  # before the last four
    fresh = _course(therapist, attended=6)
    _phq9(fresh, days_ago=20)  # within the last four
    never = _course(therapist, attended=4)
    once = _course(therapist, attended=4)
    _phq9(once, days_ago=40)
    assert _flags(therapist, stale) == ["No PHQ-9 in the last 4 sessions"]
    assert _flags(therapist, fresh) == []
    assert _flags(therapist, never) == ["No PHQ-9 in the last 4 sessions"]
    assert _flags(therapist, once) == []


def test_it_flags_termination_not_begun_by_session_m_minus_3(therapist):
    late = _course(therapist, attended=9, planned=12)
    ending = _course(therapist, phase=Phase.TERMINATION, attended=9, planned=12)
    on_time = _course(therapist, attended=8, planned=12)
    for course in (late, ending, on_time):
        _phq9(course, days_ago=1)
        MidCourseReviewFactory(course=course)  # past the halfway session: reviewed
    assert _flags(therapist, late) == ["Termination not begun by session 9"]
    assert _flags(therapist, ending) == []
    assert _flags(therapist, on_time) == []


def test_it_flags_an_open_risk_flag_until_answered(therapist):
    open_ = _course(therapist)
    _phq9(open_, days_ago=1, risk=True)
    answered = _course(therapist)
    _phq9(answered, days_ago=1, risk=True, responded=True)
    assert _flags(therapist, open_) == ["Open risk flag (PHQ-9 item 9)"]
    assert _flags(therapist, answered) == []


def test_the_page_groups_the_caseload_by_phase(therapist, other_therapist, therapist_client):
    _course(therapist, phase=Phase.INITIAL, last_name="Initialsson", area=False)
    _course(therapist, phase=Phase.TERMINATION, attended=10, planned=12, last_name="Endsworth")
    _course(other_therapist, last_name="Notmine")
    PatientFactory(primary_therapist=therapist, last_name="Newcomer")
    body = therapist_client.get(reverse("caseload:therapist_home")).content.decode()
    # The caseload follows the day's lists (where Endsworth's unwritten notes are listed).
    caseload = body[body.index('id="phase-initial"') :]
    assert (
        caseload.index("Initialsson")
        < caseload.index("Termination / relapse prevention")
        < caseload.index("Endsworth")
    )
    assert "session 10 of 12" in body
    assert "Notmine" not in body
    assert "Newcomer" in body  # active, no course yet
    assert "No PHQ-9 in the last 4 sessions" in body


def test_each_read_is_the_asking_therapists_and_of_its_own_moment(therapist, other_therapist):
    """The home's reads are built once per process (``home_selectors``): nothing of one
    request, its therapist or its time, stays in them for the next."""
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        mine = _course(therapist, first_name="Mine")
        theirs = _course(other_therapist, first_name="Theirs")
        first = SessionFactory(course=mine, scheduled_start=start + timedelta(days=1))
        second = SessionFactory(course=mine, scheduled_start=start + timedelta(days=8))
        SessionFactory(course=theirs, scheduled_start=start + timedelta(days=2))
        assert [(c.pk, c.next_session_at) for c in caseload_courses(therapist)] == [
            (mine.pk, first.scheduled_start)
        ]
        assert [c.pk for c in caseload_courses(other_therapist)] == [theirs.pk]
    with time_machine.travel(start + timedelta(days=3), tick=False):
        assert [(c.pk, c.next_session_at) for c in caseload_courses(therapist)] == [
            (mine.pk, second.scheduled_start)
        ]


def test_it_lists_the_active_patients_without_a_course(
    therapist, other_therapist, therapist_client
):
    waiting = PatientFactory(primary_therapist=therapist, first_name="Wendy", last_name="Ash")
    ended = PatientFactory(primary_therapist=therapist, first_name="Eddie", last_name="Birch")
    CourseFactory(patient=ended, status="completed", phase="completed")
    _course(therapist, first_name="Rita", last_name="Cole")  # a course running: in her phase
    PatientFactory(primary_therapist=therapist, first_name="Dora", status="discharged")
    PatientFactory(primary_therapist=other_therapist, first_name="Otto")
    page = therapist_client.get(reverse("caseload:therapist_home")).content.decode()
    listed = page[page.index('id="no-course-h"') :]
    listed = listed[: listed.index("</section>")]
    assert listed.index("Ash, Wendy") < listed.index("Birch, Eddie")
    assert reverse("phases:course_create", args=[waiting.pk]) in listed
    for absent in ("Rita", "Dora", "Otto"):
        assert absent not in listed
