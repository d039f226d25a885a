"""The patient's homework entries as the therapist reads them (issue 23, point 3): laid out by
kind in the next session's note and on its page (a mood log as a table by day, communication
practice as its four answers), listed with their homework on the course page, in a fixed
number of queries whatever the number of entries."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions import homework, services
from sessions.models import HomeworkEntry
from tests.factories import AssignmentFactory, SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)  # Monday 21 December 2026
SET_AT = NOW - timedelta(days=14)  # the session that set the homework


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _log(course, days: int):
    set_in = SessionFactory(course=course, scheduled_start=SET_AT, status="attended")
    log = AssignmentFactory(course=course, session=set_in, kind="log", title="Mood log")
    for number in range(days):
        homework.homework_entry_add(
            assignment=log,
            values={
                "entry_date": SET_AT.date() + timedelta(days=number),
                "mood": number % 11,
                "people": f"Person {number}",
                "happened": f"Day {number} happened",
            },
        )
    practice = AssignmentFactory(
        course=course, session=set_in, kind="communication", title="Ask Marcus for time"
    )
    homework.homework_entry_add(
        assignment=practice,
        values={
            "said": "Can we talk on Sunday?",
            "response": "He said after lunch.",
            "feeling": 6,
            "next_time": "Ask earlier in the week.",
        },
    )
    return log, practice


def _next_note(course, therapist):
    session = SessionFactory(course=course, scheduled_start=NOW - timedelta(hours=1))
    session.status = "attended"
    session.save()
    services.note_start(session=session, by=therapist)
    return session


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def _rows(page: str, caption: str) -> list[list[str]]:
    table = page[page.index(caption) :]
    table = table[: table.index("</table>")]
    body = table[table.index("<tbody>") :]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_next_note_lays_out_a_mood_log_by_day_and_the_four_answers(
    therapist_client, therapist, course
):
    _log(course, 2)
    session = _next_note(course, therapist)
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    assert _rows(page, "Mood and interpersonal log: 2 days") == [
        ["Mon 7 Dec", "0", "Person 0", "Day 0 happened"],
        ["Tue 8 Dec", "1", "Person 1", "Day 1 happened"],
    ]
    practice = page[page.index("Ask Marcus for time") :]
    for label, answer in (
        ("What they said", "Can we talk on Sunday?"),
        ("How the other person responded", "He said after lunch."),
        ("How they felt (0–10)", "6"),
        ("What they would do next time", "Ask earlier in the week."),
    ):
        assert re.search(rf"<dt>{re.escape(label)}</dt><dd[^>]*>{re.escape(answer)}</dd>", practice)


def test_the_session_page_shows_the_entries_of_the_homework_it_reviews(
    therapist_client, therapist, course
):
    _log(course, 2)
    session = _next_note(course, therapist)
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Mood and interpersonal log: 2 days" in page
    assert "Can we talk on Sunday?" in page


def test_reviewing_in_the_note_locks_the_entries_and_the_course_page_says_so(
    therapist_client, therapist, course
):
    log, practice = _log(course, 1)
    session = _next_note(course, therapist)
    note = session.note
    response = therapist_client.post(
        reverse("therapy:note", args=[session.pk]),
        {
            "version": note.version,
            "risk_level": "none",
            f"homework_{log.pk}": "done",
            f"homework_{practice.pk}": "done",
        },
    )
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.reviewed_in == session
    with pytest.raises(homework.ValidationError, match="no longer be changed"):
        homework.homework_entry_add(
            assignment=log, values={"entry_date": date(2026, 12, 20), "mood": 5}
        )
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    panel = page[page.index('id="course-homework"') :]
    assert "reviewed 21 Dec 2026: the patient's entries are locked" in panel
    assert _rows(panel, "Mood and interpersonal log: 1 day") == [
        ["Mon 7 Dec", "0", "Person 0", "Day 0 happened"]
    ]
    assert "Can we talk on Sunday?" in panel


def test_the_course_page_lists_entries_with_their_homework(therapist_client, course):
    _log(course, 3)
    AssignmentFactory(course=course, kind="reading", title="Leaflet on grief")
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    panel = page[page.index('id="course-homework"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.index("Mood log") < panel.index("Mood and interpersonal log: 3 days")
    assert panel.index("Ask Marcus for time") < panel.index("Can we talk on Sunday?")
    assert "No entries from the patient." in panel  # the reading, not written about yet
    assert "the patient can still add and change entries" in panel


@pytest.mark.parametrize("page", ["note", "session", "course"])
def test_the_pages_queries_do_not_grow_with_the_entries(therapist_client, therapist, page):
    from tests.factories import CourseFactory, PatientFactory

    def url_with(days: int) -> str:
        course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
        _log(course, days)
        session = _next_note(course, therapist)
        if page == "course":
            return reverse("phases:course", args=[course.pk])
        return reverse(f"therapy:{page}", args=[session.pk])

    one, fourteen = url_with(1), url_with(14)
    assert HomeworkEntry.objects.filter(kind="log").count() == 15
    assert _queries(therapist_client, one) == _queries(therapist_client, fourteen)
