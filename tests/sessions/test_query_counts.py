"""The course's sessions-and-chart page and the session page run the same number of queries
whatever the length of the history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase, PhaseTransition
from sessions import services
from sessions.models import Measure
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    LifeEventFactory,
    PatientFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def _history(therapist, sessions: int):
    patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(
        patient=patient, start_date=timezone.localdate() - timedelta(days=7 * sessions + 7)
    )
    first = timezone.now() - timedelta(days=7 * sessions)
    PhaseTransition.objects.create(
        clinic=course.clinic,
        course=course,
        kind="forward",
        from_phase=Phase.INITIAL,
        to_phase=Phase.SOCIAL,
        by=therapist,
        at=first + timedelta(days=8),
    )
    LifeEventFactory(patient=patient, occurred_on=timezone.localdate() - timedelta(days=20))
    LifeEventFactory(patient=patient, occurred_on=timezone.localdate() - timedelta(days=10))
    made = []
    for index in range(sessions):
        session = SessionFactory(
            course=course, scheduled_start=first + timedelta(days=7 * index), status="attended"
        )
        AssignmentFactory(course=course, session=session, reflection="Went fine")
        note = services.note_start(session=session, by=therapist)
        note = services.note_save(
            note=note, by=therapist, data={"risk_level": "none"}, expected_version=note.version
        )
        services.note_sign(note=note, by=therapist)
        # Scores after the note is signed: the first session's flag stays open on the pages.
        for instrument, answers in (("phq9", [2] * 8 + [1]), ("gad7", [1] * 7)):
            Measure.objects.create(
                clinic=course.clinic,
                course=course,
                session=session,
                instrument=instrument,
                answers=answers,
                total=sum(answers),
                severity="x",
                risk_flag=instrument == "phq9" and index == 0,
                taken_at=session.scheduled_start + timedelta(minutes=5),
                entered_by=therapist,
            )
        services.note_add_addendum(note=note, by=therapist, text="Later thought")
        made.append(session)
    return course, made


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_it_runs_the_same_queries_for_2_and_16_sessions(therapist_client, therapist):
    short_course, short_sessions = _history(therapist, 2)
    long_course, long_sessions = _history(therapist, 16)
    assert Measure.objects.filter(course=long_course).count() == 32

    short_page = _queries(
        therapist_client, reverse("therapy:course_sessions", args=[short_course.pk])
    )
    long_page = _queries(
        therapist_client, reverse("therapy:course_sessions", args=[long_course.pk])
    )
    assert short_page == long_page

    short_session = _queries(
        therapist_client, reverse("therapy:session", args=[short_sessions[-1].pk])
    )
    long_session = _queries(
        therapist_client, reverse("therapy:session", args=[long_sessions[-1].pk])
    )
    assert short_session == long_session


def test_it_shows_every_score_in_the_chart_and_its_table(therapist_client, therapist):
    course, _ = _history(therapist, 16)
    page = therapist_client.get(
        reverse("therapy:course_sessions", args=[course.pk])
    ).content.decode()
    assert page.count("<circle") == 16
    assert page.count("session 16") >= 2  # a marker's title and the table row
    assert "16 of 16" in page


def test_a_draft_notes_session_page_asks_for_no_addenda(therapist_client, therapist):
    course, sessions = _history(therapist, 2)
    signed = sessions[-1]
    draft = SessionFactory(course=course, scheduled_start=timezone.now(), status="attended")
    services.note_start(session=draft, by=therapist)

    def addenda_queries(session) -> int:
        with CaptureQueriesContext(connection) as context:
            response = therapist_client.get(reverse("therapy:session", args=[session.pk]))
        assert response.status_code == 200
        return sum("therapy_noteaddendum" in q["sql"] for q in context.captured_queries)

    assert addenda_queries(signed) == 1
    assert addenda_queries(draft) == 0
