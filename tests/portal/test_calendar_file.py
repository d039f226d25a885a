"""The .ics download: RFC 5545, UTC times, nothing clinical."""

from datetime import UTC, datetime

from django.urls import reverse

from sessions.models import SessionStatus
from tests.factories import SessionFactory


def test_it_offers_an_ics_file_per_upcoming_session(portal_client, course):
    session = SessionFactory(
        course=course, scheduled_start=datetime(2031, 3, 4, 9, 30, tzinfo=UTC), duration_minutes=50
    )
    listing = portal_client.get(reverse("portal:sessions")).content.decode()
    url = reverse("portal:session_ics", kwargs={"session_id": session.pk})
    assert url in listing

    response = portal_client.get(url)
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    lines = body.split("\r\n")
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert "DTSTART:20310304T093000Z" in lines
    assert "DTEND:20310304T102000Z" in lines
    assert any(line.startswith(f"UID:session-{session.pk}@") for line in lines)
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    assert "SUMMARY:Appointment with Riverside Clinic" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    for word in ("IPT", "therapy", "depress", "phase", "Jamie", course.patient.record_number):
        assert word.lower() not in body.lower()


def test_it_offers_no_file_for_a_cancelled_or_past_session(portal_client, course):
    cancelled = SessionFactory(course=course, status=SessionStatus.CANCELLED_CLINIC)
    past = SessionFactory(course=course, scheduled_start=datetime(2020, 1, 1, tzinfo=UTC))
    for session in (cancelled, past):
        url = reverse("portal:session_ics", kwargs={"session_id": session.pk})
        assert portal_client.get(url).status_code == 404
