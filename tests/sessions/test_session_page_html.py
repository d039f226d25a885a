"""sessions/page_html.py writes the session page's homework lists as the template it stands
for writes them (``_assignment_list.html`` with ``_homework_entries.html``): the same
elements, attributes and text, element by element (only the blank space between tags may
differ), for every kind of homework and entry, every status, with and without a person, a
problem area, a reflection, in a time zone far from UTC, with text that needs escaping."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from patients.models import Relationship
from phases.models import ProblemArea
from sessions.models import Assignment, AssignmentKind, AssignmentStatus, HomeworkEntry
from sessions.page_html import assignment_list
from tests.html_events import html_events

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"
TZ = ZoneInfo("Pacific/Auckland")


def _entry(number: int, **values) -> HomeworkEntry:
    # Late evening in UTC: the next day in Auckland, as the page's date filter shows it.
    return HomeworkEntry(
        pk=number,
        entry_date=date(2026, 11, 27 + number % 3),
        created_at=datetime(2026, 11, 27, 22, number, tzinfo=UTC),
        **values,
    )


def _assignments() -> list[Assignment]:
    person = Relationship(pk=1, name=f"Marcus {HOSTILE}")
    area = ProblemArea(pk=1, kind="role_dispute")
    made = []
    cases = [
        (AssignmentKind.LOG, AssignmentStatus.DONE, [
            _entry(1, mood=4, people="Marcus, <Evie>", happened=HOSTILE),
            _entry(2, mood=None, people="", happened=""),
        ]),
        (AssignmentKind.LOG, AssignmentStatus.ASSIGNED, [_entry(3, mood=0, people="x")]),
        (AssignmentKind.COMMUNICATION, AssignmentStatus.NOT_DONE, [
            _entry(4, said=HOSTILE, response="", feeling=6, next_time="Ask <earlier>"),
        ]),
        (AssignmentKind.COMMUNICATION, AssignmentStatus.DONE, [
            _entry(5, said="a", response="b", feeling=None, next_time=""),
            _entry(6, said="", response=HOSTILE, feeling=0, next_time="c"),
        ]),
        (AssignmentKind.ROLE_PLAY, AssignmentStatus.WITHDRAWN, [
            _entry(7, rehearsed=HOSTILE, how_it_went="", feeling=3),
            _entry(8, rehearsed="", how_it_went="fine", feeling=None),
        ]),
        (AssignmentKind.ACTIVITY, AssignmentStatus.DONE, [
            _entry(9, did=HOSTILE, how_it_went="", feeling=7),
        ]),
        (AssignmentKind.READING, AssignmentStatus.ASSIGNED, [
            _entry(10, stayed_with_me=HOSTILE), _entry(11, stayed_with_me=""),
        ]),
        (AssignmentKind.READING, "unknown", []),
    ]  # fmt: skip
    for number, (kind, status, entries) in enumerate(cases, start=1):
        assignment = Assignment(
            pk=number,
            title=f"Homework {number} {HOSTILE}",
            instructions=f"Line one\nline two {HOSTILE}" if number % 2 else "",
            kind=kind,
            status=status,
            due_date=date(2026, 12, number),
            reflection=HOSTILE if number % 3 == 0 else "",
        )
        assignment.relationship = person if number % 2 else None
        assignment.problem_area = area if number % 4 else None
        assignment.entry_list = entries
        made.append(assignment)
    return made


@pytest.mark.parametrize("count", [0, 1, 8])
def test_the_homework_list_is_the_templates(count):
    assignments = _assignments()[:count]
    with timezone.override(TZ):
        expected = render_to_string("sessions/_assignment_list.html", {"assignments": assignments})
    written = assignment_list(assignments, TZ)
    assert html_events(written) == html_events(expected)
    if count:
        assert "<script>" not in written and "&lt;script&gt;" in written
        assert "28 Nov" in written  # the entries' day in Auckland, not in UTC
