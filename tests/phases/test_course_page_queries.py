"""The course page reads each of its rows once: the rows a course has at most one of (its
relapse plan, mid-course review and shared wording) come with the course's own row, the
patient's clinic is the course's; a role dispute's history, the patient's answers and their
other courses are read only when there are any, and an active course reads no discharge
letters. Its number of queries stays within a bound however much the course holds."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from phases.formulation_sharing import formulation_share
from phases.models import FormulationAnswer, ProblemAreaKind
from phases.services import dispute_stage_record, problem_area_create, relapse_plan_save
from sessions.models import Worksheet
from tests.factories import (
    CourseFactory,
    GoalFactory,
    MidCourseReviewFactory,
    ProblemAreaFactory,
    RelationshipFactory,
)
from tests.sessions.test_query_counts import _history

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _last_seen_kept_a_minute(settings):
    # As served: the session's last-seen time is written at most once a minute, not on each
    # of the requests counted here (the test settings write it every time).
    settings.SESSION_LAST_SEEN_INTERVAL = timedelta(minutes=1)


# The course page of a course holding one of everything (below): the session, the user with
# their clinic and second factor, the course's row, the audit event, the course's phase
# changes, its relapse plan's supports, goals, problem areas, a dispute's history, the
# patient's answers, other courses, sessions, scores, life events, worksheets, homework and
# its entries, and the header's three.
MOST_QUERIES = 21


def _queries(client, course):
    url = reverse("phases:course", args=[course.pk])
    client.get(url)  # the first request after logging in writes the session
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in context.captured_queries]


def _with_everything(therapist):
    """A course in its middle phase with sessions, scores, an open risk flag and homework
    (``_history``), and one of everything the phases app keeps about it."""
    course, sessions = _history(therapist, 4)
    course.phase = "problem_solving"
    course.save()
    patient = course.patient
    marcus = RelationshipFactory(patient=patient, kind="partner", name="Marcus")
    frank = RelationshipFactory(
        patient=patient, kind="parent", name="Frank", deceased=True, died_on=date(2025, 5, 1)
    )
    dispute = problem_area_create(
        course=course,
        by=therapist,
        kind="role_dispute",
        other_party=marcus,
        dispute_stage="impasse",
    )
    dispute_stage_record(
        problem_area=dispute,
        by=therapist,
        stage="renegotiation",
        recorded_on=timezone.localdate(),
    )
    grief = ProblemAreaFactory(course=course, kind=ProblemAreaKind.GRIEF, deceased=frank)
    GoalFactory(problem_area=dispute, text="Talk with Marcus on Sundays")
    GoalFactory(problem_area=grief, text="Visit Frank's grave with Claire")
    relapse_plan_save(
        course=course,
        by=therapist,
        expected_version=0,
        supports=[marcus],
        warning_signs="Sleeping badly",
        coping_strategies="The Sunday talk",
        if_symptoms_return="Call the clinic",
    )
    MidCourseReviewFactory(course=course)
    course.refresh_from_db()
    share = formulation_share(
        course=course, by=therapist, text="Your mood fell with the rows.", expected_version=None
    )
    FormulationAnswer.objects.create(
        clinic=course.clinic, course=course, share=share, answer="agree", at=timezone.now()
    )
    Worksheet.objects.create(
        clinic=course.clinic,
        course=course,
        session=sessions[-1],
        kind="communication_analysis",
        problem_area=dispute,
        relationship=marcus,
        incident="The row about Tuesday evenings",
        created_by=therapist,
    )
    CourseFactory(
        patient=patient,
        status="completed",
        start_date=course.start_date - timedelta(days=400),
        ended_at=timezone.now() - timedelta(days=300),
    )
    course.refresh_from_db()
    return course


def _reads_a_course(sql: str) -> bool:
    """Whether a statement reads a course's row as the page or its header do: through the
    ORM, or the page's own statement (``phases.page_reads``, its course as ``c``)."""
    return sql.startswith(
        (
            'SELECT "phases_treatmentcourse"."id", "phases_treatmentcourse"."clinic_id"',
            'SELECT c."id", c."clinic_id"',
        )
    )


def test_a_course_holding_everything_reads_it_in_a_bounded_number_of_queries(
    therapist, therapist_client
):
    course = _with_everything(therapist)
    page, queries = _queries(therapist_client, course)
    assert len(queries) <= MOST_QUERIES, "\n".join(queries)
    # What the joined rows carry is on the page.
    assert "People to turn to</dt><dd>Marcus</dd>" in page
    assert "Held after" in page
    assert ">Shared</span>" in page and "Agreed</span>" in page
    assert "Renegotiation" in page and "stage-history-" in page
    assert "Who died: Frank" in page
    assert "Other courses" in page
    assert "The row about Tuesday evenings" in page
    assert "Risk flag" in page
    # Read once each: the course (in the access check), no second read of the clinic.
    assert sum(map(_reads_a_course, queries)) == 1
    # the page's row (the header takes the active course from the page)
    assert not any(q.startswith('SELECT "accounts_clinic"') for q in queries)
    for table in ("phases_relapsepreventionplan", "phases_midcoursereview"):
        assert not any(q.startswith(f'SELECT "{table}"') for q in queries), table


def test_it_reads_no_history_answers_other_courses_or_letters_a_course_has_not(
    course, therapist_client
):
    GoalFactory(problem_area=ProblemAreaFactory(course=course))
    page, queries = _queries(therapist_client, course)
    assert "Employed" in page
    assert not any("phases_disputestageentry" in q for q in queries)
    assert not any("letters_dischargeletter" in q for q in queries)
    # Nothing answered, no other course: neither list is read (the course's row says so).
    assert not any(q.startswith('SELECT "phases_formulationanswer"') for q in queries)
    courses = [q for q in queries if _reads_a_course(q)]
    assert len(courses) == 1  # the page's course (the header takes it from the page)


def test_the_count_does_not_grow_with_what_the_course_holds(therapist, therapist_client):
    course = _with_everything(therapist)
    _, few = _queries(therapist_client, course)
    # More of each: goals, stage entries, people to turn to, answers, worksheets, courses.
    area = course.problem_areas.get(kind=ProblemAreaKind.ROLE_DISPUTE)
    GoalFactory(problem_area=area, text="Agree who does the school run")
    dispute_stage_record(
        problem_area=area, by=therapist, stage="impasse", recorded_on=timezone.localdate()
    )
    course.relapse_plan.supports.add(RelationshipFactory(patient=course.patient, name="Claire"))
    share = course.formulation_shares.get()
    FormulationAnswer.objects.create(
        clinic=course.clinic, course=course, share=share, answer="talk", at=timezone.now()
    )
    worksheet = Worksheet.objects.get(course=course)
    worksheet.pk = None
    worksheet.save()
    CourseFactory(patient=course.patient, status="dropped_out", ended_at=timezone.now())
    page, many = _queries(therapist_client, course)
    assert "Claire" in page and "Agree who does the school run" in page
    assert len(many) == len(few)
