"""Homework in the portal: instructions, done / not done with a reflection, idempotent."""

from django.urls import reverse

from ipt_clinic.audit.models import AuditAction, AuditEvent
from sessions import notices
from sessions.models import AssignmentStatus
from tests.factories import AssignmentFactory, SessionFactory


def test_it_lists_current_homework_with_its_instructions(portal_client, course):
    AssignmentFactory(course=course, title="Call Maya", instructions="Ask about the weekend plan.")
    AssignmentFactory(course=course, title="Old task", status=AssignmentStatus.WITHDRAWN)
    body = portal_client.get(reverse("portal:homework")).content.decode()
    assert "Call Maya" in body and "Ask about the weekend plan." in body
    assert "Old task" not in body


def test_it_marks_homework_done_with_a_reflection(portal_client, course, monkeypatch):
    closed = []
    monkeypatch.setattr(notices, "on_assignment_closed", closed.append)
    assignment = AssignmentFactory(course=course)
    url = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    response = portal_client.post(url, {"status": "done", "reflection": "It went better."})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE
    assert assignment.reflection == "It went better."
    assert assignment.completed_at is not None
    assert closed == [assignment]
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.PORTAL_ACTION, object_id=assignment.pk, actor_kind="patient"
        ).count()
        == 1
    )
    past = portal_client.get(reverse("portal:homework")).content.decode()
    assert "You did it" in past


def test_it_changes_nothing_when_the_same_form_is_sent_twice(portal_client, course, monkeypatch):
    closed = []
    monkeypatch.setattr(notices, "on_assignment_closed", closed.append)
    assignment = AssignmentFactory(course=course)
    url = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    data = {"status": "not_done", "reflection": "No time this week."}
    portal_client.post(url, data)
    assignment.refresh_from_db()
    first_completed_at = assignment.completed_at
    portal_client.post(url, data)
    assignment.refresh_from_db()
    assert assignment.completed_at == first_completed_at
    assert len(closed) == 1
    assert (
        AuditEvent.objects.filter(action=AuditAction.PORTAL_ACTION, object_id=assignment.pk).count()
        == 1
    )


def test_it_refuses_changes_after_the_therapist_reviewed_it(portal_client, course):
    session = SessionFactory(course=course)
    assignment = AssignmentFactory(
        course=course, status=AssignmentStatus.DONE, reflection="Fine", reviewed_in=session
    )
    url = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    assert portal_client.post(url, {"status": "not_done"}).status_code == 404
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE


def test_it_asks_for_an_answer_before_saving(portal_client, course):
    assignment = AssignmentFactory(course=course)
    url = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    response = portal_client.post(url, {"reflection": "hm"})
    assert response.status_code == 200
    assert "Choose whether you did this homework." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED
