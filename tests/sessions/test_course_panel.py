"""The course page of the phases area shows this area's panel through a template tag."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from tests.sessions.test_query_counts import _history

pytestmark = pytest.mark.django_db

PANEL = Template("{% load therapy %}{% course_sessions_panel course %}")


def _render(course) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as context:
        html = PANEL.render(Context({"course": course, "csrf_token": "t"}))
    return html, len(context.captured_queries)


def test_it_renders_sessions_outcome_and_chart_in_fixed_queries(therapist):
    short_course, _ = _history(therapist, 2)
    long_course, _ = _history(therapist, 16)
    short_html, short_queries = _render(short_course)
    long_html, long_queries = _render(long_course)
    assert short_queries == long_queries
    assert "<svg" in long_html and "16 of 16" in long_html
    assert "Book a session" in long_html
