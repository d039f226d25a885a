"""Today on the therapist's home: the day's sessions (clinic time) with attendance and note
and the one click left to do, the close-out list (attendance not recorded, notes not signed,
those handed to the therapist included), the next appointments, and the open risk flags
before all of them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from sessions.models import Measure, SessionNote, SessionStatus
from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 13:00 in London (GMT).
NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _course(therapist, first_name):
    patient = PatientFactory(primary_therapist=therapist, first_name=first_name, last_name="Day")
    return CourseFactory(patient=patient, planned_sessions=12)


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _home(client) -> str:
    response = client.get(reverse("caseload:therapist_home"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_todays_sessions_with_attendance_note_and_the_next_step(
    therapist, therapist_client, clinic
):
    ann = SessionFactory(course=_course(therapist, "Ann"), scheduled_start=NOW - timedelta(hours=4))
    ben = SessionFactory(course=_course(therapist, "Ben"), scheduled_start=NOW + timedelta(hours=2))
    cal = SessionFactory(
        course=_course(therapist, "Cal"),
        scheduled_start=NOW - timedelta(hours=2),
        status=SessionStatus.ATTENDED,
    )
    SessionNote.objects.create(clinic=clinic, session=cal, phase="initial", version=3)
    SessionFactory(course=_course(therapist, "Dot"), scheduled_start=NOW - timedelta(days=1))
    today = _section(_home(therapist_client), "home-today")
    assert "Today, Wednesday 25 November" in today
    assert today.index("Ann Day") < today.index("Cal Day") < today.index("Ben Day")
    assert "Dot Day" not in today  # yesterday's: in the close-out list
    # Ann's session has begun: attendance in one click.
    assert f'action="{reverse("therapy:attendance", args=[ann.pk])}"' in today
    assert "Record Ann Day as attended" in today
    # Cal attended; the note is a draft: open it.
    assert f'href="{reverse("therapy:note", args=[cal.pk])}"' in today
    assert "note not signed</span> (draft, version 3)" in today
    # Ben is still ahead: nothing to record yet.
    assert f'action="{reverse("therapy:attendance", args=[ben.pk])}"' not in today


def test_it_takes_today_in_the_clinics_time_zone(therapist, clinic):
    clinic.time_zone = "America/New_York"
    clinic.save()
    course = _course(therapist, "Nia")
    # 23:30 UTC on Wednesday is 18:30 in New York: 00:30 UTC Thursday is still Wednesday
    # evening there, and 04:00 UTC Wednesday was Tuesday night.
    with time_machine.travel(datetime(2026, 11, 25, 23, 30, tzinfo=UTC), tick=False):
        SessionFactory(course=course, scheduled_start=datetime(2026, 11, 26, 0, 30, tzinfo=UTC))
        SessionFactory(
            course=course,
            scheduled_start=datetime(2026, 11, 25, 4, 0, tzinfo=UTC),
            status=SessionStatus.ATTENDED,
        )
        page = _home(login(Client(), therapist))
    today = _section(page, "home-today")
    assert "Today, Wednesday 25 November" in today
    assert ">19:30</time>" in today
    assert "23:00" not in today
    assert "Tue 24 Nov, 23:00" in _section(page, "home-close-out")


def test_it_lists_what_is_left_to_close_out(therapist, other_therapist, therapist_client, clinic):
    unmarked = SessionFactory(
        course=_course(therapist, "Eve"), scheduled_start=NOW - timedelta(days=2, hours=3)
    )
    unwritten = SessionFactory(
        course=_course(therapist, "Fay"),
        scheduled_start=NOW - timedelta(days=1),
        status=SessionStatus.ATTENDED,
    )
    # Gus moved to Alice after a session with Bob whose note Bob had not signed.
    gus = _course(therapist, "Gus")
    handed = SessionFactory(
        course=gus,
        therapist=other_therapist,
        scheduled_start=NOW - timedelta(days=6),
        status=SessionStatus.ATTENDED,
    )
    SessionNote.objects.create(clinic=clinic, session=handed, phase="initial", signer=therapist)
    signed = SessionFactory(
        course=_course(therapist, "Hal"),
        scheduled_start=NOW - timedelta(days=1),
        status=SessionStatus.ATTENDED,
    )
    SessionNote.objects.create(clinic=clinic, session=signed, phase="initial", signed_at=NOW)
    SessionFactory(
        course=_course(therapist, "Ivy"),
        scheduled_start=NOW - timedelta(days=1),
        status=SessionStatus.NO_SHOW,
    )
    bobs = _course(other_therapist, "Jon")
    SessionFactory(course=bobs, scheduled_start=NOW - timedelta(days=1))

    close_out = _section(_home(therapist_client), "home-close-out")
    assert close_out.index("Gus Day") < close_out.index("Eve Day") < close_out.index("Fay Day")
    for absent in ("Hal Day", "Ivy Day", "Jon Day"):
        assert absent not in close_out
    assert f'action="{reverse("therapy:attendance", args=[unmarked.pk])}"' in close_out
    assert f'action="{reverse("therapy:note_start", args=[unwritten.pk])}"' in close_out
    assert f'href="{reverse("therapy:note", args=[handed.pk])}"' in close_out
    assert "handed to you to write and sign" in close_out
    assert close_out.count("over 48 hours") == 2  # Gus's and Eve's, not yesterday's Fay


def test_it_lists_the_next_appointments_and_the_risk_flags_first(
    therapist, therapist_client, clinic
):
    course = _course(therapist, "Kit")
    for days in range(1, 11):
        SessionFactory(course=course, scheduled_start=NOW + timedelta(days=days))
    Measure.objects.create(
        clinic=clinic,
        course=course,
        instrument="phq9",
        answers=[1] * 8 + [2],
        total=10,
        severity="moderate",
        risk_flag=True,
        taken_at=NOW - timedelta(hours=1),
    )
    page = _home(therapist_client)
    upcoming = _section(page, "home-next")
    assert upcoming.count("Kit Day") == 8
    assert "Thu 26 Nov, 13:00" in upcoming
    assert "next: session 1 of 12" in upcoming
    # The open risk flag comes before everything else on the page (on a phone too).
    assert page.index('id="home-risk"') < page.index('id="home-today"')
    assert f'href="{reverse("therapy:course_sessions", args=[course.pk])}"' in _section(
        page, "home-risk"
    )
