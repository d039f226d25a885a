"""The therapist's day lists' items (today, to close out, next appointments) written out in
Python: the markup the partial ``caseload/_day_session.html`` gave for each session, element
by element (``tests/caseload/test_day_html.py`` keeps the partial, renders both and compares
them), at a fraction of the
cost: through the partial, included once per session, each item cost about a thousand calls
(a lookup per variable, a ``{% url %}`` per link, a filter per date and label).

Every text is escaped (``format_html``); dates are written in the current time zone: the
clinic's, which the home's ``{% timezone %}`` block around the lists makes current.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from patients.links import link_maker
from sessions.display import count_for_session
from sessions.models import CANCELLED_STATUSES, Modality, SessionStatus

_MODALITIES = {value: str(label) for value, label in Modality.choices}
_STATUSES = {value: str(label) for value, label in SessionStatus.choices}


def _label(labels: dict, value) -> str:
    return labels.get(value, "" if value is None else str(value))


def _note(session):
    try:
        return session.note
    except ObjectDoesNotExist:
        return None


# What the csrf context processor gives when the request has no token (not a secret).
_NO_TOKEN = "NOTPROVIDED"  # noqa: S105  # nosec B105: a marker, not a secret


def _csrf_input(csrf_token) -> SafeString:
    """What ``{% csrf_token %}`` writes for the page's ``csrf_token``."""
    if not csrf_token or csrf_token == _NO_TOKEN:
        return mark_safe("")  # noqa: S308 - empty  # nosec B308
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)


class DayRows:
    """Writes the items of one page's lists: the links reversed once for all of them, each
    form with the page's token (``csrf_token``, as the page's context has it)."""

    def __init__(self, *, user, now, csrf_token):
        self.user, self.now = user, now
        self.csrf_input = _csrf_input(csrf_token)
        self.session_url = link_maker("therapy:session")
        self.attendance_url = link_maker("therapy:attendance")
        self.note_url = link_maker("therapy:note")
        self.note_start_url = link_maker("therapy:note_start")

    def items(self, sessions, *, show_day: bool) -> SafeString:
        """The ``<li>`` of each of ``sessions`` (read by ``home_selectors``: with the course,
        patient and note, ``status_rank`` and, in the close-out list, ``overdue``)."""
        items = [self._item(session, show_day=show_day) for session in sessions]
        return mark_safe("".join(items))  # noqa: S308 - every item is format_html output  # nosec B308 B703

    def _item(self, session, *, show_day: bool) -> SafeString:
        note = _note(session)
        name = session.course.patient.full_name
        status = session.status
        local = timezone.localtime(session.scheduled_start)
        unmarked = status == SessionStatus.SCHEDULED and session.scheduled_start <= self.now
        overdue = getattr(session, "overdue", False)
        count = count_for_session(session)
        if unmarked:
            count_html = format_html(
                '<span class="d-block small"><span class="flag">{}</span></span>', count
            )
        else:
            count_html = format_html(
                '<span class="d-block small text-body-secondary">{}</span>', count
            )
        states = ""
        if status != SessionStatus.SCHEDULED or overdue or note:
            parts = []
            if status != SessionStatus.SCHEDULED:
                parts.append(format_html("<span>{}</span>", _label(_STATUSES, status)))
            if status == SessionStatus.ATTENDED:
                if not note:
                    parts.append('<span class="flag">no note yet</span>')
                elif note.signed_at:
                    parts.append("<span>note signed</span>")
                else:
                    parts.append(
                        format_html(
                            '<span><span class="flag">note not signed</span> (draft, version {})'
                            "</span>",
                            note.version,
                        )
                    )
            if (
                note is not None
                and note.signer_id == self.user.pk
                and session.therapist_id != self.user.pk
            ):
                parts.append("<span>handed to you to write and sign</span>")
            if overdue:
                parts.append('<span class="flag flag-risk">over 48 hours</span>')
            states = format_html(
                '<span class="d-flex flex-wrap column-gap-2 small">\n{}\n</span>\n',
                # Constants and format_html output.
                mark_safe("\n".join(parts)),  # noqa: S308  # nosec B308 B703
            )
        return format_html(
            '<li class="list-group-item px-0 day-session">\n'
            '<div class="d-flex flex-wrap justify-content-between align-items-start gap-2">\n'
            '<div class="day-session-who">\n'
            '<a class="fw-semibold" href="{}">{}</a>\n'
            '<span class="d-block small"><time datetime="{}">{}</time> · {} min · {}</span>\n'
            "{}\n{}"
            "</div>\n"
            '<div class="d-flex flex-wrap gap-1 day-session-actions">\n{}</div>\n'
            "</div>\n"
            "</li>\n",
            self.session_url(session.pk),
            name,
            date_format(local, "c"),
            date_format(local, "D j M, H:i" if show_day else "H:i"),
            session.duration_minutes,
            _label(_MODALITIES, session.modality),
            count_html,
            states,
            self._actions(session, note, name, unmarked),
        )

    def _actions(self, session, note, name: str, unmarked: bool) -> SafeString:
        status = session.status
        signed = note is not None and note.signed_at
        if unmarked:
            url = self.attendance_url(session.pk)
            return format_html(
                '<form method="post" action="{url}">{csrf}<input type="hidden" name="status"'
                ' value="attended"><button type="submit" class="btn btn-sm btn-primary"'
                ' aria-label="Record {name} as attended">Attended</button></form>\n'
                '<form method="post" action="{url}">{csrf}<input type="hidden" name="status"'
                ' value="no_show"><button type="submit" class="btn btn-sm btn-outline-secondary"'
                ' aria-label="Record {name} as did not attend">Did not attend</button></form>\n',
                url=url,
                csrf=self.csrf_input,
                name=name,
            )
        if status == SessionStatus.ATTENDED and not signed:
            if note:
                return format_html(
                    '<a class="btn btn-sm btn-primary" href="{}" aria-label="Open the note of'
                    " {}'s session\">Open note</a>\n",
                    self.note_url(session.pk),
                    name,
                )
            return format_html(
                '<form method="post" action="{}">{}<button type="submit" class="btn btn-sm'
                ' btn-primary" aria-label="Write the note of {}\'s session">Write note</button>'
                "</form>\n",
                self.note_start_url(session.pk),
                self.csrf_input,
                name,
            )
        if note and not signed and status not in CANCELLED_STATUSES:
            return format_html(
                '<a class="btn btn-sm btn-outline-primary" href="{}" aria-label="Open the note of'
                " {}'s session\">Open note</a>\n",
                self.note_url(session.pk),
                name,
            )
        return mark_safe("")  # noqa: S308 - empty  # nosec B308
