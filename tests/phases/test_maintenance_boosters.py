"""Booster sessions of a maintenance course: booked when a warning sign of the relapse plan
comes back, recording which one; booked through the same checks, audit and reminder as any
session; on top of the contract; flagged when no sign is named."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from notifications.models import Notification
from phases.models import MaintenanceBooster, Phase, TreatmentCourse
from sessions.models import TherapySession
from tests.conftest import login
from tests.factories import CourseFactory

from .maintenance_cast import maintenance_course

pytestmark = pytest.mark.django_db

# Wednesday 13 January 2027, 10:00 in London (GMT).
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def maintenance(therapist):
    return maintenance_course(therapist)


def _slot(**changes) -> dict:
    return {
        "date": "2027-01-20",
        "time": "15:00",
        "duration_minutes": "45",
        "modality": "video",
        "note": "",
        "other_sign": "",
        **changes,
    }


def _book(client: Client, course, **changes):
    return client.post(reverse("therapy:booster_book", args=[course.pk]), _slot(**changes))


def test_it_books_a_booster_naming_the_warning_sign_that_came_back(maintenance, therapist):
    client = login(Client(), therapist)
    page = client.get(reverse("therapy:booster_book", args=[maintenance.pk])).content.decode()
    for sign in ("Waking at 4 a.m.", "Cancelling plans with friends", "Snapping at Chris"):
        assert sign in page
    assert "- Waking" not in page and "• Snapping" not in page

    response = _book(client, maintenance, sign="1", note="Skipped the choir twice.")
    assert response.status_code == 302
    assert response["Location"] == reverse("phases:course", args=[maintenance.pk])
    [session] = TherapySession.objects.filter(course=maintenance)
    assert session.scheduled_start == datetime(2027, 1, 20, 15, 0, tzinfo=UTC)
    assert (session.duration_minutes, session.modality) == (45, "video")
    booster = MaintenanceBooster.objects.get(course=maintenance)
    assert booster.session_id == session.pk
    assert booster.warning_sign == "Cancelling plans with friends"
    assert booster.note == "Skipped the choir twice."
    assert Notification.objects.filter(
        kind="session_reminder", about_type="session", about_id=session.pk
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="phases.maintenancebooster",
        summary="Booster session added: Cancelling plans with friends",
    ).exists()
    course_page = client.get(reverse("phases:course", args=[maintenance.pk])).content.decode()
    boosters = course_page.split('id="boosters"')[1].split("</ul>")[0]
    assert "Cancelling plans with friends — Skipped the choir twice." in boosters


def test_a_booster_without_a_named_sign_is_booked_and_flagged(maintenance, therapist):
    client = login(Client(), therapist)
    assert _book(client, maintenance, sign="none").status_code == 302
    assert MaintenanceBooster.objects.get(course=maintenance).warning_sign == ""
    page = client.get(reverse("phases:course", args=[maintenance.pk])).content.decode()
    assert "1 booster without a warning sign recorded" in page


def test_another_sign_is_written_out(maintenance, therapist):
    client = login(Client(), therapist)
    refused = _book(client, maintenance, sign="other")
    assert (
        refused.status_code == 200 and "Write the sign that came back." in refused.content.decode()
    )
    assert not TherapySession.objects.filter(course=maintenance).exists()
    assert _book(client, maintenance, sign="other", other_sign="Not eating").status_code == 302
    assert MaintenanceBooster.objects.get(course=maintenance).warning_sign == "Not eating"


def test_a_clash_books_nothing_and_records_no_booster(maintenance, therapist):
    client = login(Client(), therapist)
    assert _book(client, maintenance, sign="0").status_code == 302
    clash = _book(client, maintenance, sign="2", time="15:30")
    assert clash.status_code == 200 and "already has a session" in clash.content.decode()
    assert MaintenanceBooster.objects.filter(course=maintenance).count() == 1
    assert TherapySession.objects.filter(course=maintenance).count() == 1


def test_boosters_belong_to_a_running_maintenance_course(maintenance, therapist):
    client = login(Client(), therapist)
    acute = CourseFactory(patient__primary_therapist=therapist)
    assert client.get(reverse("therapy:booster_book", args=[acute.pk])).status_code == 404
    assert _book(client, acute, sign="none").status_code == 404
    TreatmentCourse.objects.filter(pk=maintenance.pk).update(
        status="completed", phase=Phase.COMPLETED
    )
    ended = _book(client, maintenance, sign="0")
    assert "This course has ended." in ended.content.decode()
    assert not MaintenanceBooster.objects.exists()


def test_a_booster_takes_no_number_of_the_contract_on_the_course_page(maintenance, therapist):
    # Two contract sessions booked, then a booster between them: the course's sessions table
    # numbers the contract's 1 and 2 of 12 and calls the booster a booster, and the contract
    # still has 10 to book.
    from sessions.services import session_book

    for day in ("2027-01-19", "2027-02-16"):
        session_book(
            course=maintenance,
            start=datetime.fromisoformat(f"{day}T15:00:00+00:00"),
            duration_minutes=45,
            modality="video",
            by=therapist,
        )
    client = login(Client(), therapist)
    assert _book(client, maintenance, date="2027-01-26", sign="1").status_code == 302
    page = client.get(reverse("phases:course", args=[maintenance.pk])).content.decode()
    table = page[page.index('id="course-sessions-heading"') :]
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>", table)
    assert rows == ["next: session 1 of 12", "booster session (booked)", "booked: session 2 of 12"]
    assert "Book the remaining 10 sessions" in page
