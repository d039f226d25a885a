"""The session page's homework lists, written out in Python: the same markup as
``templates/sessions/_assignment_list.html`` with ``_homework_entries.html``, which stay the
reference (``tests/sessions/test_session_page_html.py`` renders both and compares them
element by element, hostile text included). The bench's session page target needs it:
through the template each assignment and each of its entries cost a lookup per variable, a
display method per label and an include per list.

Every value is escaped (``format_html``); the labels are the fields' choices' own; dates as
the template's ``date`` filter writes them in the page's time zone.
"""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .models import Assignment, AssignmentKind, AssignmentStatus

_KINDS = {value: str(label) for value, label in AssignmentKind.choices}
_STATUSES = {value: str(label) for value, label in AssignmentStatus.choices}
_BADGES = {AssignmentStatus.DONE: "success", AssignmentStatus.NOT_DONE: "secondary"}

# Each kind's answers, in the order the entry shows them: (label, field, "—" when empty, text).
_ANSWERS = {
    AssignmentKind.COMMUNICATION: (
        ("What they said", "said", False, True),
        ("How the other person responded", "response", True, True),
        ("How they felt (0–10)", "feeling", False, False),
        ("What they would do next time", "next_time", True, True),
    ),
    AssignmentKind.ROLE_PLAY: (
        ("What they rehearsed or tried", "rehearsed", False, True),
        ("How it went", "how_it_went", True, True),
        ("How they felt (0–10)", "feeling", False, False),
    ),
    AssignmentKind.ACTIVITY: (
        ("What they did", "did", False, True),
        ("How it felt (0–10)", "feeling", False, False),
        ("In their words", "how_it_went", True, True),
    ),
}
_OTHER_ANSWERS = (("What stayed with them", "stayed_with_me", False, True),)


def _label(labels: dict, value) -> str:
    """``get_FOO_display()``: the choice's label, or the value itself when it has none."""
    return labels.get(value, "" if value is None else str(value))


def _or_dash(value):
    return value if value else "—"


def _log(entries) -> SafeString:
    count = len(entries)
    return format_html(
        '<div class="table-responsive">\n'
        '<table class="table table-sm small mb-1">\n'
        '<caption class="caption-top small">Mood and interpersonal log: {} day{}</caption>\n'
        '<thead><tr><th scope="col">Day</th><th scope="col">Mood (0–10)</th>'
        '<th scope="col">Who with</th><th scope="col">What happened</th></tr></thead>\n'
        "<tbody>\n{}</tbody>\n</table>\n</div>\n",
        count,
        "" if count == 1 else "s",
        format_html_join(
            "",
            '<tr><th scope="row" class="text-nowrap fw-normal">{}</th><td>{}</td><td>{}</td>'
            '<td class="text-prewrap">{}</td></tr>\n',
            (
                (
                    date_format(entry.entry_date, "D j M"),
                    entry.mood,
                    _or_dash(entry.people),
                    _or_dash(entry.happened),
                )
                for entry in entries
            ),
        ),
    )


def _answers(kind: str, entries, tz) -> SafeString:
    fields = _ANSWERS.get(kind, _OTHER_ANSWERS)
    numbered = len(entries) > 1
    parts = []
    for number, entry in enumerate(entries, start=1):
        answers = format_html_join(
            "",
            "<dt>{}</dt><dd{}>{}</dd>\n",
            (
                (
                    label,
                    mark_safe(' class="text-prewrap"') if text else "",  # noqa: S308 - a constant  # nosec B308 B703
                    _or_dash(getattr(entry, field)) if dash else getattr(entry, field),
                )
                for label, field, dash, text in fields
            ),
        )
        parts.append(
            format_html(
                '<div class="border-start ps-2 mb-2 small">\n'
                '<p class="fw-semibold mb-1">Patient\'s entry{} · {}</p>\n'
                '<dl class="mb-0">\n{}</dl>\n</div>\n',
                f" {number}" if numbered else "",
                date_format(timezone.localtime(entry.created_at, tz), "j M"),
                answers,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html output  # nosec B308 B703


def _entries(assignment: Assignment, tz) -> SafeString:
    entries = assignment.entry_list
    if not entries:
        return mark_safe("")  # nosec B308 B703
    inner = (
        _log(entries)
        if assignment.kind == AssignmentKind.LOG
        else _answers(assignment.kind, entries, tz)
    )
    return format_html('<div class="homework-entries mt-1">\n{}</div>\n', inner)


def _item(assignment: Assignment, tz) -> SafeString:
    return format_html(
        '<li class="mb-2 border-bottom pb-2">\n'
        "<strong>{title}</strong> · {kind} · due {due}\n"
        '· <span class="badge text-bg-{badge}">{status}</span>\n'
        "{person}{area}"
        '<div class="small text-prewrap">{instructions}</div>\n'
        "{reflection}{entries}"
        "</li>\n",
        title=assignment.title,
        kind=_label(_KINDS, assignment.kind),
        due=date_format(assignment.due_date, "j M Y"),
        badge=_BADGES.get(assignment.status, "info"),
        status=_label(_STATUSES, assignment.status),
        person=(
            format_html("· with {}\n", assignment.relationship.name)
            if assignment.relationship is not None
            else ""
        ),
        area=(
            format_html("· {}\n", assignment.problem_area)
            if assignment.problem_area is not None
            else ""
        ),
        instructions=assignment.instructions,
        reflection=(
            format_html(
                '<blockquote class="small mb-0 mt-1 border-start ps-2"><span class="fw-semibold">'
                'Patient\'s reflection:</span> <span class="text-prewrap">{}</span></blockquote>\n',
                assignment.reflection,
            )
            if assignment.reflection
            else ""
        ),
        entries=_entries(assignment, tz),
    )


_NONE = mark_safe('<ul class="list-unstyled">\n<li class="text-body-secondary">None.</li>\n</ul>\n')  # noqa: S308 - a constant  # nosec B308 B703


def assignment_list(assignments: list[Assignment], tz) -> SafeString:
    """The ``<ul>`` of ``_assignment_list.html``: each assignment read with its person, its
    problem area and its entries (``entry_list``) at hand; ``tz`` the page's time zone."""
    if not assignments:
        return _NONE
    items = "".join(_item(assignment, tz) for assignment in assignments)
    return format_html('<ul class="list-unstyled">\n{}</ul>\n', mark_safe(items))  # noqa: S308 - every item is format_html output  # nosec B308 B703
