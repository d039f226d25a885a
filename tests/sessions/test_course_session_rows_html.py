"""sessions.course_html.course_session_rows_html writes the course's sessions table rows as
the template loop it replaced wrote them: the same elements, attributes and text, element by
element (only the blank space between tags may differ), with no score, one, several, a risk
flag, no session at all, and text that needs escaping; and both pages that show the table
show them."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from sessions.course_html import course_session_rows_html
from sessions.views import _CourseSessionRow, course_sessions_context
from tests.factories import CourseFactory, PatientFactory, SessionFactory
from tests.html_events import html_events as _events

# The loop as the table had it (templates/sessions/_course_sessions.html).
ROWS = Template(
    """{% for row in course_session_rows %}
      <tr>
        <td>{{ row.number }}</td>
        <td><a href="{{ row.url }}">{{ row.when }}</a></td>
        <td>{{ row.status }}</td>
        <td>{{ row.phase }}</td>
        <td>{{ row.note }}</td>
        <td>{% for instrument, total, risk in row.scores %}{{ instrument }} {{ total }}{% if risk %} <span class="flag flag-risk">risk</span>{% endif %}{% if not forloop.last %}, {% endif %}{% empty %}—{% endfor %}</td>
      </tr>
    {% empty %}
      <tr><td colspan="6" class="text-body-secondary">No sessions booked yet.</td></tr>
    {% endfor %}"""  # noqa: E501
)

TRICKY = "<b>Al & \"Co\"</b> 'x'"


def _template(rows) -> str:
    return ROWS.render(Context({"course_session_rows": rows}))


def _row(**values):
    return _CourseSessionRow(
        **{
            "number": "session 1 of 16",
            "url": "/sessions/1/",
            "when": "Mon 3 Mar 2025, 10:00",
            "status": "Attended",
            "phase": "Initial assessment",
            "note": "Signed",
            "scores": [],
            **values,
        }
    )


def test_the_rows_are_the_templates():
    rows = [
        _row(),
        _row(scores=[("PHQ-9", "12", False)]),
        _row(
            number="booster session",
            url="/sessions/2/?a=1&b=2",
            scores=[("PHQ-9", "21", True), ("GAD-7", "9", False), ("WSAS", "30", True)],
        ),
        _row(
            number=TRICKY,
            when=TRICKY,
            status=TRICKY,
            phase="—",
            note="—",
            scores=[(TRICKY, TRICKY, True)],
        ),  # fmt: skip
    ]
    written = course_session_rows_html(rows)
    assert _events(written) == _events(_template(rows))
    assert "&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt; &#x27;x&#x27;" in written
    assert "<b>" not in written
    assert _events(course_session_rows_html([])) == _events(_template([]))


@pytest.mark.django_db
def test_both_pages_show_the_courses_rows(therapist, therapist_client):
    patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(patient=patient)
    sessions = [SessionFactory(course=course, status="attended"), SessionFactory(course=course)]
    rows_html = str(course_sessions_context(course)["course_session_rows_html"])
    assert rows_html.count("<tr>") == 2
    for url in (
        reverse("phases:course", args=[course.pk]),
        reverse("therapy:course_sessions", args=[course.pk]),
    ):
        page = therapist_client.get(url)
        html = page.content.decode()
        assert page.status_code == 200
        assert "No sessions booked yet." not in html
        for session in sessions:
            link = reverse("therapy:session", args=[session.pk])
            assert f'<td><a href="{link}">' in html
