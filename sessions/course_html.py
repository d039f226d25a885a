"""The course's sessions table rows (the course page's sessions panel and the course's
sessions page), written out in Python: the same markup as the template loop they replace
(``tests/sessions/test_course_session_rows_html.py`` renders both and compares them element
by element), at a fraction of the cost: through the template each row cost a lookup and an
escape per value and an inner loop for its scores.

Every value is escaped.
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_RISK = ' <span class="flag flag-risk">risk</span>'


def course_session_rows_html(rows) -> SafeString:
    """``rows``: the sessions table's rows (``sessions.views._CourseSessionRow``); the empty
    table's row when there are none."""
    if not rows:
        return mark_safe(  # noqa: S308 - a constant  # nosec B308 B703
            '<tr><td colspan="6" class="text-body-secondary">No sessions booked yet.</td></tr>'
        )
    return mark_safe(  # noqa: S308 - every value below goes through escape()  # nosec B308 B703
        "".join(
            "<tr>"
            f"<td>{escape(row.number)}</td>"
            f'<td><a href="{escape(row.url)}">{escape(row.when)}</a></td>'
            f"<td>{escape(row.status)}</td>"
            f"<td>{escape(row.phase)}</td>"
            f"<td>{escape(row.note)}</td>"
            "<td>"
            + (
                ", ".join(
                    f"{escape(instrument)} {escape(total)}{_RISK if risk else ''}"
                    for instrument, total, risk in row.scores
                )
                or "—"
            )
            + "</td></tr>"
            for row in rows
        )
    )
