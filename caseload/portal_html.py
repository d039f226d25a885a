"""The items of the therapist's home's portal panel (``caseload/_home_extra_portal.html``)
written out in Python: the markup the panel's loop gave for each item, element by element
(``tests/caseload/test_portal_html.py`` keeps the loop, renders both and compares them), at a
fraction of the cost of a lookup per variable and a filter per label, text and date.

Every text is escaped (``format_html``)."""

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince

from patients.links import link_maker
from sessions.display import instrument_label

# What ``|truncatechars`` leaves of a comment or a reflection.
_SHOWN_CHARS = 120
_RISK = mark_safe('<span class="badge text-bg-danger">Item 9 positive — risk flag</span>')  # noqa: S308  # nosec B308


def _ago(moment) -> str:
    """``moment|timesince``."""
    if not moment:
        return ""
    try:
        return timesince(moment)
    except (ValueError, TypeError):
        return ""


def _quoted(text) -> SafeString:
    """``: “{{ text|truncatechars:120 }}”``, or nothing without a text."""
    if not text:
        return mark_safe("")  # noqa: S308 - empty  # nosec B308
    return format_html(": “{}”", Truncator(text).chars(_SHOWN_CHARS))


def _what(item, course_url) -> SafeString:
    if item.kind == "self_report":
        measure = item.measure
        return format_html(
            "filled in a {}: {} ({})\n{}",
            instrument_label(measure.instrument),
            measure.total,
            measure.severity,
            _RISK if item.risk_flag else "",
        )
    if item.kind == "formulation":
        answer = item.formulation_answer
        return format_html(
            '<a href="{}#formulation-for-patient">{}</a>{}',
            course_url(answer.course_id),
            "agreed with the formulation you shared"
            if answer.answer == "agree"
            else "would like to talk about the formulation you shared",
            _quoted(answer.comment),
        )
    assignment = item.assignment
    return format_html(
        "marked homework “{}” {}{}",
        assignment.title,
        "done" if assignment.status == "done" else "not done",
        _quoted(assignment.reflection),
    )


def portal_items(activity) -> SafeString:
    """The ``<li>`` of each item of ``activity`` (``sessions.portal_activity``)."""
    course_url = link_maker("phases:course")
    items = [
        format_html(
            '<li class="list-group-item px-0">\n'
            '<span class="fw-semibold">{}</span>\n{}\n'
            '<span class="d-block small text-body-secondary">{} ago</span>\n'
            "</li>\n",
            item.patient.full_name,
            _what(item, course_url),
            _ago(item.at),
        )
        for item in activity
    ]
    return mark_safe("".join(items))  # noqa: S308 - every item is format_html output  # nosec B308 B703
