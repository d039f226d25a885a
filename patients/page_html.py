"""The patient page's two lists, the inventory's table rows and the timeline's items, written
out in Python: the same markup as the template fragments they replace
(``tests/patients/test_page_html.py`` renders both and compares them element by element),
at a fraction of the cost. Through the template each row cost several hundred calls (a
lookup per variable, a display method and a choices walk per label, a ``{% url %}`` per
link); the rows were most of the page's rendering.

Every value is escaped (``format_html``); the labels are the fields' choices' own.
"""

from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .links import link_maker
from .models import ExpectationsMet, LifeEvent, MoodEffect, Relationship, RelationshipKind

_KINDS = {value: str(label) for value, label in RelationshipKind.choices}
_EXPECTATIONS = {value: str(label) for value, label in ExpectationsMet.choices}
_MOODS = {value: str(label) for value, label in MoodEffect.choices}

# The detail row's texts, in the order the page shows them.
_DETAILS = (
    ("satisfying", "Satisfying:"),
    ("unsatisfying", "Not satisfying:"),
    ("disputes", "Disputes:"),
    ("wants_to_change", "Would like to change:"),
)


def _label(labels: dict, value) -> str:
    """``get_FOO_display()``: the choice's label, or the value itself when it has none."""
    return labels.get(value, "" if value is None else str(value))


def _person_row(person: Relationship, *, edit, remove, csrf_input: SafeString) -> SafeString:
    notes = [_label(_KINDS, person.kind)]
    if person.deceased:
        notes.append(" · died")
        if person.died_on:
            notes.append(f" {date_format(person.died_on, 'Y')}")
    if person.is_support:
        notes.append(" · support")
    if person.changed_near_onset:
        notes.append(" · changed near onset")
        if person.change_when:
            notes.append(f" ({person.change_when})")
    row = format_html(
        "<tr>\n"
        '<td><strong>{name}</strong><br><span class="small">{notes}</span></td>\n'
        "<td>{ring}</td>\n"
        '<td class="small">{contact}</td>\n'
        '<td class="small">{expectations}</td>\n'
        '<td class="text-end">\n'
        '<a class="btn btn-link btn-sm" href="{edit}">Edit<span class="visually-hidden">'
        " {name}</span></a>\n"
        '<form method="post" action="{remove}" class="d-inline">{csrf}<button type="submit"'
        ' class="btn btn-link btn-sm text-danger">Remove<span class="visually-hidden">'
        " {name}</span></button></form>\n"
        "</td>\n"
        "</tr>\n",
        name=person.name,
        notes="".join(notes),
        ring=person.ring,
        contact=person.contact_frequency or "—",
        expectations=_label(_EXPECTATIONS, person.expectations_met),
        edit=edit(person.pk),
        remove=remove(person.pk),
        csrf=csrf_input,
    )
    details = [(label, getattr(person, field)) for field, label in _DETAILS]
    if any(text for _, text in details):
        row += format_html(
            '<tr class="small text-body-secondary"><td colspan="5">\n{}\n</td></tr>\n',
            format_html_join(
                "\n",
                "<div><strong>{}</strong> {}</div>",
                ((label, text) for label, text in details if text),
            ),
        )
    return row


def relationship_rows(people: list[Relationship], *, csrf_token: str) -> SafeString:
    """The inventory table's rows (``<tr>``), one per person and a second with their texts
    when there are any; ``csrf_token`` for each row's form, as ``{% csrf_token %}`` writes
    it."""
    edit = link_maker("patients:relationship_edit")
    remove = link_maker("patients:relationship_remove")
    csrf_input = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token
    )
    rows = [_person_row(p, edit=edit, remove=remove, csrf_input=csrf_input) for p in people]
    return mark_safe("".join(rows))  # noqa: S308 - every row is format_html output  # nosec B308 B703


def timeline_items(events: list[LifeEvent]) -> SafeString:
    """The timeline's items (``<li>``), each event read with its person (``relationship``),
    if any, already at hand."""
    edit = link_maker("patients:life_event_edit")
    return format_html_join(
        "",
        '<li class="timeline-item mood-{}">\n'
        '<time datetime="{}" class="fw-semibold">{}</time>\n'
        "— {}{}\n"
        '· <span class="mood-effect">{}</span>\n'
        '<a class="btn btn-link btn-sm" href="{}">Edit</a>\n'
        "</li>\n",
        (
            (
                event.mood_effect,
                date_format(event.occurred_on, "Y-m-d"),
                date_format(event.occurred_on, "j M Y"),
                event.description,
                (
                    format_html(
                        ' <span class="text-body-secondary">(with {})</span>',
                        event.relationship.name,
                    )
                    if event.relationship_id is not None
                    else ""
                ),
                _label(_MOODS, event.mood_effect),
                edit(event.pk),
            )
            for event in events
        ),
    )
