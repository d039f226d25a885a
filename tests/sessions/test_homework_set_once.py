"""Homework set from a form sent twice is set once, with one set of notices in the outbox;
the same form sent again with other homework is refused, the text kept on a fresh form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from sessions.models import Assignment
from tests.factories import SessionFactory
from tests.form_keys import key_on

pytestmark = pytest.mark.django_db


def _homework(session, title: str, key: str) -> dict:
    due = timezone.localdate(timezone=session.clinic.tz) + timedelta(days=7)
    return {
        "title": title,
        "instructions": "Use the words we rehearsed.",
        "kind": "communication",
        "due_date": due.isoformat(),
        "form_key": key,
    }


def _session(course):
    return SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))


def test_it_sets_homework_sent_twice_once_with_its_notices_once(therapist_client, course):
    session = _session(course)
    url = reverse("therapy:assignment_new", args=[session.pk])
    data = _homework(session, "Ask her about Sunday", key_on(therapist_client.get(url)))
    first = therapist_client.post(url, data)
    second = therapist_client.post(url, data, follow=True)
    assert first.status_code == 302
    assert second.redirect_chain == [(first["Location"], 302)]
    assert "Already saved" in second.content.decode()
    [assignment] = Assignment.objects.filter(session=session)
    notices = Notification.objects.filter(about_type="assignment")
    # A "new homework" notice and a "due tomorrow" reminder: for the one assignment only.
    assert sorted(notices.values_list("kind", flat=True)) == ["homework_due", "homework_new"]
    assert set(notices.values_list("about_id", flat=True)) == {assignment.pk}


def test_it_refuses_the_same_form_sent_with_other_homework(therapist_client, course):
    session = _session(course)
    url = reverse("therapy:assignment_new", args=[session.pk])
    key = key_on(therapist_client.get(url))
    therapist_client.post(url, _homework(session, "Ask her about Sunday", key))
    refused = therapist_client.post(url, _homework(session, "Keep a mood log", key))
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "already sent and saved as the homework “Ask her about Sunday”" in body
    assert 'value="Keep a mood log"' in body
    assert Assignment.objects.filter(session=session).count() == 1
    assert Notification.objects.filter(about_type="assignment").count() == 2
    again = therapist_client.post(url, _homework(session, "Keep a mood log", key_on(refused)))
    assert again.status_code == 302
    assert Assignment.objects.filter(session=session).count() == 2
