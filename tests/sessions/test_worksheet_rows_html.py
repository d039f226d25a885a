"""sessions.worksheets.course_worksheet_rows_html writes the course page's worksheet rows as
the template loop it replaced wrote them: the same elements, attributes and text, element by
element (only the blank space between tags may differ), with and without a person and a piece
of homework, with text that needs escaping; and the course page shows them."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.text import Truncator

from sessions import worksheets
from sessions.worksheets import CourseWorksheetRow, course_worksheet_rows_html
from tests.html_events import html_events as _events
from tests.sessions.test_worksheets import _communication, _scene

# The loop as the panel had it (templates/sessions/worksheet_panel.html).
ROWS = Template(
    """{% for row in course_worksheet_rows %}
      <tr>
        <td class="text-nowrap">{{ row.when }}</td>
        <td><a href="{{ row.url }}">{{ row.kind }}</a></td>
        <td>{{ row.problem_area }}{% if row.person %} · {{ row.person }}{% endif %}</td>
        <td>{{ row.summary }}{% if row.homework %}<div class="small text-body-secondary">Homework: {{ row.homework }}</div>{% endif %}</td>
      </tr>
    {% endfor %}"""  # noqa: E501
)

TRICKY = "<b>Al & \"Co\"</b> 'x'"


def _template(rows) -> str:
    return ROWS.render(Context({"course_worksheet_rows": rows}))


def test_the_rows_are_the_templates():
    rows = [
        CourseWorksheetRow(
            url="/sessions/worksheets/1/",
            when="Mon 3 Mar, 10:00",
            kind="Communication analysis",
            problem_area="Role dispute",
            person="Marcus",
            summary="He came home late.",
            homework="Tell him how the waiting feels",
        ),
        CourseWorksheetRow(
            url="/sessions/worksheets/2/?a=1&b=2",
            when="Tue 4 Mar, 09:30",
            kind="Decision analysis",
            problem_area="Role transition",
            person="",
            summary=TRICKY,
            homework="",
        ),
        CourseWorksheetRow(
            url="/sessions/worksheets/3/",
            when="Wed 5 Mar, 17:15",
            kind="Role play",
            problem_area=TRICKY,
            person=TRICKY,
            summary="",
            homework=TRICKY,
        ),
    ]
    written = course_worksheet_rows_html(rows)
    assert _events(written) == _events(_template(rows))
    assert "&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt; &#x27;x&#x27;" in written
    assert "<b>" not in written
    assert course_worksheet_rows_html([]) == ""


@pytest.mark.django_db
def test_the_panels_rows_are_the_templates_and_the_page_shows_them(therapist, therapist_client):
    session, area, marcus = _scene(therapist)
    _communication(session, area, marcus, therapist)
    _communication(session, area, None, therapist, incident=f"Shouted {TRICKY} at the door")
    context = worksheets.course_worksheets_context(session.course)
    assert len(context["course_worksheet_rows"]) == 2
    assert _events(context["course_worksheet_rows_html"]) == _events(
        _template(context["course_worksheet_rows"])
    )
    page = therapist_client.get(reverse("phases:course", args=[session.course_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert str(context["course_worksheet_rows_html"]) in html
    assert "Shouted &lt;b&gt;Al &amp; &quot;Co&quot;" in html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  Two  spaces\nand a line  ",
        "a" * 140,
        "a" * 141,
        "e\u0301" * 100,  # 200 code points, 100 characters once composed
        "e\u0301" * 141,
        "x\u20dd" * 100,  # a combining mark that does not compose: not counted, not cut
        "word " * 40,
    ],
)
def test_a_summary_is_truncators(text):
    assert worksheets._summary(text) == Truncator(" ".join(text.split())).chars(140)
