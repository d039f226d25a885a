"""One count: "session x of N" counts the sessions held, and every page that shows it writes
the same figure for the same visit; a no-show and a cancellation take no number; the next
session booked reads "next: session x+1 of N"."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from patients.portal_links import portal_link_create
from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, SessionFactory
from tests.portal.links import open_portal

pytestmark = pytest.mark.django_db

# A Wednesday in winter (clinic time is UTC); the week began on Monday 11 January.
NOW = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)
COUNT = re.compile(r"(next: |booked: )?session (\d+) of 12", re.IGNORECASE)


HEADER = re.compile(r'<section class="patient-header.*?</section>', re.DOTALL)


def _figures(html: str) -> set[tuple[str, int]]:
    """The figures in the page's own content (the patient header, with the course's figure,
    is checked on its own)."""
    content = HEADER.sub("", html)
    return {((prefix or "").lower(), int(number)) for prefix, number in COUNT.findall(content)}


def _header_figures(html: str) -> set[tuple[str, int]]:
    [header] = HEADER.findall(html)
    return {((prefix or "").lower(), int(number)) for prefix, number in COUNT.findall(header)}


@pytest.fixture
def visit(therapist):
    """Attended, no-show, attended, cancelled, attended (this Monday), then the next session
    on Friday and one more the Friday after."""
    with time_machine.travel(NOW, tick=False):
        course = CourseFactory(
            patient=PatientFactory(primary_therapist=therapist, first_name="Nora"),
            planned_sessions=12,
            start_date=NOW.date() - timedelta(days=40),
        )
        monday = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)
        plan = [
            (-28, "attended"),
            (-21, "no_show"),
            (-14, "attended"),
            (-7, "cancelled_patient"),
            (0, "attended"),
            (4, "scheduled"),
            (11, "scheduled"),
        ]
        sessions = [
            SessionFactory(
                course=course, scheduled_start=monday + timedelta(days=days), status=status
            )
            for days, status in plan
        ]
        yield course, sessions


def test_it_writes_the_same_figure_on_every_page(therapist, visit):
    course, sessions = visit
    no_show, cancelled, held, upcoming = sessions[1], sessions[3], sessions[4], sessions[5]
    with time_machine.travel(NOW, tick=False):
        staff = login(Client(), therapist)
        link_url = portal_link_create(patient=course.patient, by=therapist)[1]
        portal = Client()
        assert open_portal(portal, link_url).status_code == 302

        def page(url, client=staff) -> str:
            response = client.get(url)
            assert response.status_code == 200, url
            return response.content.decode()

        home = page(reverse("caseload:therapist_home"))
        patient = page(reverse("patients:detail", args=[course.patient_id]))
        course_page = page(reverse("phases:course", args=[course.pk]))
        session_list = page(reverse("therapy:course_sessions", args=[course.pk]))
        week = page(reverse("therapy:week"))
        last_week = page(reverse("therapy:week") + "?start=2027-01-04")
        held_page = page(reverse("therapy:session", args=[held.pk]))
        next_page = page(reverse("therapy:session", args=[upcoming.pk]))
        no_show_page = page(reverse("therapy:session", args=[no_show.pk]))
        cancelled_page = page(reverse("therapy:session", args=[cancelled.pk]))
        portal_page = page(reverse("portal:sessions"), portal)

    # The course's figure: three sessions held, in the patient header of every page about her.
    for html in (patient, course_page, session_list, held_page, next_page, no_show_page):
        assert _header_figures(html) == {("", 3)}
    for html in (home, course_page):
        assert ("", 3) in _figures(html)
    # Every session numbered the one way, wherever it appears.
    assert _figures(session_list) == {("", 1), ("", 2), ("", 3), ("next: ", 4), ("booked: ", 5)}
    assert _figures(course_page) == {("", 1), ("", 2), ("", 3), ("next: ", 4), ("booked: ", 5)}
    # The home lists the held sessions whose notes are unwritten (close-out) and the next ones.
    assert _figures(home) == {("", 1), ("", 2), ("", 3), ("next: ", 4), ("booked: ", 5)}
    assert _figures(week) == {("", 3), ("next: ", 4)}
    assert _figures(held_page) == {("", 3)}
    assert _figures(next_page) == {("next: ", 4)}
    assert _figures(portal_page) == {("next: ", 4), ("booked: ", 5)}
    # A no-show and a cancellation use no number.
    assert _figures(no_show_page) == set()
    assert "did not attend (not counted)" in no_show_page.lower()
    assert _figures(cancelled_page) == set()
    assert "cancelled (not counted)" in cancelled_page.lower()
    assert _figures(last_week) == set() and "cancelled (not counted)" in last_week
    assert session_list.count("did not attend (not counted)") == 1
