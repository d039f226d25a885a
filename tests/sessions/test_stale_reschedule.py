"""Two people moving the same session at once: the second is refused with both times shown
and the typed time kept, not told "Session moved" over the first."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.editing import MISSING_VERSION
from sessions.services import session_cancel
from tests.factories import SessionFactory
from tests.stale_edits import assert_refused, open_form

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def clock():
    # A weekday in winter, days before the session: nothing here depends on the real clock.
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def session(course):
    return SessionFactory(
        course=course, scheduled_start=datetime(2027, 3, 10, 10, 0, tzinfo=LONDON), modality="video"
    )


def _slot(day: str, time: str, version: int, modality: str = "video") -> dict:
    return {
        "date": day,
        "time": time,
        "duration_minutes": "50",
        "modality": modality,
        "version": version,
    }


def test_it_refuses_a_stale_move_and_keeps_the_first(session, therapist_client, admin_client_):
    url = reverse("therapy:reschedule", args=[session.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1
    first = admin_client_.post(url, _slot("2027-03-11", "14:00", 1))
    assert first.status_code == 302
    stale = therapist_client.post(url, _slot("2027-03-12", "09:30", 1, modality="phone"))
    assert_refused(
        stale,
        theirs=["11 Mar 2027", "14:00", "Video"],
        yours=["12 Mar 2027", "09:30", "Phone"],
        version=2,
        in_form=['value="2027-03-12"', 'value="09:30"'],
    )
    assert "Session moved" not in stale.content.decode()
    session.refresh_from_db()
    assert session.scheduled_start == datetime(2027, 3, 11, 14, 0, tzinfo=LONDON)
    assert (session.modality, session.version) == ("video", 2)
    moves = AuditEvent.objects.filter(action="update", object_id=session.pk)
    assert [event.summary for event in moves] == ["Session moved to Thu 11 Mar 2027 14:00"]
    # Moved again from the refused page, the session goes where the second person wanted.
    again = therapist_client.post(url, _slot("2027-03-12", "09:30", 2, modality="phone"))
    assert again.status_code == 302
    session.refresh_from_db()
    assert session.scheduled_start == datetime(2027, 3, 12, 9, 30, tzinfo=LONDON)


def test_it_refuses_a_move_without_the_version(session, therapist_client):
    slot = _slot("2027-03-11", "14:00", 1)
    del slot["version"]
    response = therapist_client.post(reverse("therapy:reschedule", args=[session.pk]), slot)
    assert response.status_code == 200
    assert MISSING_VERSION in response.content.decode()
    session.refresh_from_db()
    assert session.scheduled_start == datetime(2027, 3, 10, 10, 0, tzinfo=LONDON)


def test_it_counts_a_cancellation_as_a_change_of_the_session(session, therapist):
    version = session.version
    cancelled = session_cancel(session=session, by=therapist, by_whom="patient", reason="Unwell")
    assert cancelled.version == version + 1
