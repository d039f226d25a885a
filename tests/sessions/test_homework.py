from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import Assignment
from tests.factories import (
    AssignmentFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db


def test_it_sets_homework_from_the_session_page(monkeypatch, therapist_client, course):
    set_hooks = []
    monkeypatch.setattr("sessions.notices.on_assignment_set", set_hooks.append)
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    sister = RelationshipFactory(patient=course.patient, name="Sister")
    area = ProblemAreaFactory(course=course)
    due = timezone.localdate() + timedelta(days=6)
    response = therapist_client.post(
        reverse("therapy:assignment_new", args=[session.pk]),
        {
            "title": "Ask her about Sunday",
            "instructions": "Use the words we rehearsed.",
            "kind": "role_play",
            "relationship": sister.pk,
            "problem_area": area.pk,
            "due_date": due.isoformat(),
            "form_key": fresh_key(services.ASSIGNMENT_FORM, session),
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.session, assignment.course, assignment.relationship, assignment.status) == (
        session,
        course,
        sister,
        "assigned",
    )
    assert set_hooks == [assignment]


def test_it_refuses_a_person_from_another_patients_inventory(course, therapist):
    session = SessionFactory(course=course)
    stranger = RelationshipFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError) as refused:
        services.assignment_set(
            session=session,
            by=therapist,
            title="Call",
            instructions="Call them",
            kind="communication",
            relationship=stranger,
            problem_area=None,
            due_date=timezone.localdate() + timedelta(days=3),
        )
    assert "relationship" in refused.value.message_dict
    assert not Assignment.objects.exists()


def test_it_refuses_a_due_date_in_the_past(course, therapist):
    session = SessionFactory(course=course)
    with pytest.raises(ValidationError, match="in the past"):
        services.assignment_set(
            session=session,
            by=therapist,
            title="Log",
            instructions="Keep a log",
            kind="log",
            relationship=None,
            problem_area=None,
            due_date=timezone.localdate() - timedelta(days=1),
        )


def test_it_shows_the_patients_reflection_to_the_therapist(therapist_client, course):
    earlier = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(days=7))
    later = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    AssignmentFactory(
        course=course,
        session=earlier,
        status="done",
        reflection="It went better than I feared.",
    )
    for session in (earlier, later):
        page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content
        assert b"It went better than I feared." in page


def test_it_reviews_open_homework_in_the_next_note(
    monkeypatch, therapist_client, course, therapist
):
    closed = []
    monkeypatch.setattr("sessions.notices.on_assignment_closed", closed.append)
    earlier = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(days=7))
    later = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    homework = AssignmentFactory(course=course, session=earlier, title="Talk to Dan")
    note = services.note_start(session=later, by=therapist)
    page = therapist_client.get(reverse("therapy:note", args=[later.pk])).content.decode()
    assert "Talk to Dan" in page
    response = therapist_client.post(
        reverse("therapy:note", args=[later.pk]),
        {"version": note.version, "risk_level": "none", f"homework_{homework.pk}": "not_done"},
    )
    assert response.status_code == 302
    homework.refresh_from_db()
    assert (homework.status, homework.reviewed_in) == ("not_done", later)
    assert closed == [homework]


def test_it_escapes_homework_text_written_by_people(therapist_client, course, therapist):
    earlier = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(days=7))
    later = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    AssignmentFactory(
        course=course,
        session=earlier,
        title="<script>alert(1)</script>",
        reflection="<img src=x onerror=alert(2)>",
    )
    services.note_start(session=later, by=therapist)
    for url in (
        reverse("therapy:session", args=[later.pk]),
        reverse("therapy:note", args=[later.pk]),
    ):
        page = therapist_client.get(url).content.decode()
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(1)" in page


def test_the_session_page_lists_homework_set_in_it_and_homework_to_review(therapist_client, course):
    now = timezone.now()
    earlier = SessionFactory(course=course, scheduled_start=now - timedelta(days=14))
    this = SessionFactory(course=course, scheduled_start=now - timedelta(days=7))
    later = SessionFactory(course=course, scheduled_start=now + timedelta(days=7))

    def homework(title, **fields):
        AssignmentFactory(course=course, title=title, **fields)

    homework("Set here", session=this)
    homework("Set here, then withdrawn", session=this, status="withdrawn")
    homework("Open from before", session=earlier)
    homework("Set outside a session")
    homework("Reviewed here", session=earlier, reviewed_in=this)
    homework("Withdrawn before", session=earlier, status="withdrawn")
    homework("Reviewed in a later session", session=earlier, reviewed_in=later)
    homework("Set in a later session", session=later)

    page = therapist_client.get(reverse("therapy:session", args=[this.pk])).content.decode()
    set_here, for_review = page.split("Homework from earlier sessions, for review")
    set_here = set_here.split("Homework set in this session")[1]
    for_review = for_review.split("</section>")[0]

    def titles(html):
        return {t for t in ALL_TITLES if f"<strong>{t}</strong>" in html}

    assert titles(set_here) == {"Set here", "Set here, then withdrawn"}
    assert titles(for_review) == {"Open from before", "Set outside a session", "Reviewed here"}


ALL_TITLES = (
    "Set here",
    "Set here, then withdrawn",
    "Open from before",
    "Set outside a session",
    "Reviewed here",
    "Withdrawn before",
    "Reviewed in a later session",
    "Set in a later session",
)
