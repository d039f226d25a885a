"""The patient header says the same on every page about the patient (the patient's page,
the course page, the session page), whether it reads the active course itself or takes it
from what the page read: phase, "session x of N", the next appointment (clinic time), the
open risk flags (up to 50) with a link to the first one; "No active course" without one. It
reads no course the page has read already, and no flag a page read along with its patient."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from phases.models import CourseStatus, Phase
from sessions.models import Measure, SessionStatus
from tests.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A Wednesday; the clinic's time zone is London (GMT in winter).
NOW = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
HEADER = re.compile(r'<section class="patient-header.*?</section>', re.DOTALL)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _header(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    [header] = HEADER.findall(response.content.decode())
    return " ".join(header.split())


def _flag(course, *, days_ago, responded=False):
    return Measure.objects.create(
        clinic=course.clinic,
        course=course,
        instrument="phq9",
        answers=[1] * 8 + [2],
        total=10,
        severity="moderate",
        risk_flag=True,
        taken_at=NOW - timedelta(days=days_ago),
        risk_responded_at=NOW if responded else None,
    )


@pytest.fixture
def story(patient):
    """An ended course with a flag left open, the active course in the middle phase with two
    sessions held, the next one booked (an earlier one cancelled) and two flags open."""
    old = CourseFactory(patient=patient, status=CourseStatus.COMPLETED, phase=Phase.COMPLETED)
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING, planned_sessions=12)
    for days in (14, 7):
        SessionFactory(
            course=course, status=SessionStatus.ATTENDED, scheduled_start=NOW - timedelta(days=days)
        )
    SessionFactory(
        course=course,
        status=SessionStatus.CANCELLED_CLINIC,
        scheduled_start=NOW + timedelta(days=1),
    )
    booked = SessionFactory(course=course, scheduled_start=NOW + timedelta(days=2, hours=3))
    SessionFactory(course=course, scheduled_start=NOW + timedelta(days=9))
    first = _flag(old, days_ago=40)
    _flag(course, days_ago=3)
    _flag(course, days_ago=2, responded=True)
    return {"course": course, "old": old, "booked": booked, "first_flag": first}


def _expected(story) -> list[str]:
    booked, first = story["booked"], story["first_flag"]
    return [
        f'href="{reverse("phases:course", args=[story["course"].pk])}">Problem-solving strategies</a>',
        "Course</span> session 2 of 12",
        f'href="{reverse("therapy:session", args=[booked.pk])}">Fri 15 Jan, 15:00</a>',
        f'href="{reverse("therapy:risk_flag", args=[first.pk])}">Risk flag open (2)</a>',
    ]


def test_every_page_about_the_patient_shows_the_same_header(story, patient, therapist_client):
    course = story["course"]
    pages = [
        reverse("patients:detail", args=[patient.pk]),
        reverse("patients:history", args=[patient.pk]),
        reverse("phases:course", args=[course.pk]),
        reverse("phases:course", args=[story["old"].pk]),  # an ended course's page
        reverse("therapy:session", args=[story["booked"].pk]),
    ]
    headers = [_header(therapist_client, url) for url in pages]
    for expected in _expected(story):
        assert expected in headers[0]
    assert "Jamie Rivers" in headers[0]
    assert all(header == headers[0] for header in headers[1:])


def test_without_an_active_course_it_says_so_and_still_shows_the_open_flags(
    patient, therapist_client
):
    old = CourseFactory(patient=patient, status=CourseStatus.COMPLETED, phase=Phase.COMPLETED)
    flag = _flag(old, days_ago=5)
    for url in (
        reverse("patients:detail", args=[patient.pk]),
        reverse("phases:course", args=[old.pk]),
    ):
        header = _header(therapist_client, url)
        assert "No active course" in header and "Next" not in header
        assert f'href="{reverse("therapy:risk_flag", args=[flag.pk])}">Risk flag open</a>' in (
            header
        )


def test_nothing_booked_and_nothing_open(patient, course, therapist_client):
    header = _header(therapist_client, reverse("patients:detail", args=[patient.pk]))
    assert "no appointment booked" in header
    assert "no session held yet" in header
    assert "Risk flag" not in header


def _reads(client, url) -> tuple[int, int]:
    """The queries of the page that read courses by themselves (not joined to a session or a
    score), and those that read scores by themselves."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    courses = sum(
        1 for text in sql if re.search(r'^SELECT .*? FROM "phases_treatmentcourse"', text)
    )
    scores = sum(1 for text in sql if text.startswith('SELECT "therapy_measure"'))
    return courses, scores


def test_the_header_reads_nothing_the_page_has_read_or_reads_along(
    story, patient, therapist_client
):
    # The patient's page reads all the patient's courses, and the open flags with the
    # patient: the header reads neither.
    assert _reads(therapist_client, reverse("patients:detail", args=[patient.pk])) == (1, 0)
    # The history reads the flags with the patient, and no course: the header reads the
    # active one.
    assert _reads(therapist_client, reverse("patients:history", args=[patient.pk])) == (1, 0)


def test_it_counts_open_flags_up_to_fifty_on_every_page(patient, course, therapist_client):
    flags = [
        Measure(
            clinic=course.clinic,
            course=course,
            instrument="phq9",
            answers=[1] * 8 + [2],
            total=10,
            severity="moderate",
            risk_flag=True,
            taken_at=NOW - timedelta(minutes=n),
        )
        for n in range(51)
    ]
    Measure.objects.bulk_create(flags)
    first = Measure.objects.order_by("taken_at", "pk").first()
    expected = f'href="{reverse("therapy:risk_flag", args=[first.pk])}">Risk flag open (50)</a>'
    for url in (
        reverse("patients:detail", args=[patient.pk]),
        reverse("phases:course", args=[course.pk]),
    ):
        assert expected in _header(therapist_client, url)
