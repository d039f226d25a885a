"""caseload/day_html.py writes each item of the therapist's day lists as the partial it
replaced (``caseload/_day_session.html``, kept here) wrote it: the same elements, attributes
and text, element by element (only the blank space between tags may differ), for every state
a session and its note can be in, in the clinic's time zone, with a name that needs
escaping."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone

from caseload.day_html import DayRows
from caseload.home_selectors import _sessions_seen_by
from sessions.models import SessionNote
from tests.factories import CourseFactory, PatientFactory, SessionFactory
from tests.html_events import html_events as _events

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)

# The partial as the home included it for each session, inside the home's time zone block.
PARTIAL = Template(
    """{% load tz therapy %}{% timezone tz %}{% for session in sessions %}<li class="list-group-item px-0 day-session">
  <div class="d-flex flex-wrap justify-content-between align-items-start gap-2">
    <div class="day-session-who">
      <a class="fw-semibold" href="{% url 'therapy:session' session.pk %}">{{ session.course.patient.full_name }}</a>
      <span class="d-block small"><time datetime="{{ session.scheduled_start|date:'c' }}">{% if show_day %}{{ session.scheduled_start|date:"D j M, H:i" }}{% else %}{{ session.scheduled_start|date:"H:i" }}{% endif %}</time> · {{ session.duration_minutes }} min · {{ session.get_modality_display }}</span>
      {% if session.status == "scheduled" and session.scheduled_start <= now %}
      <span class="d-block small"><span class="flag">{{ session|session_count }}</span></span>
      {% else %}
      <span class="d-block small text-body-secondary">{{ session|session_count }}</span>
      {% endif %}
      {% if session.status != "scheduled" or session.overdue or session.note %}
      <span class="d-flex flex-wrap column-gap-2 small">
        {% if session.status != "scheduled" %}<span>{{ session.get_status_display }}</span>{% endif %}
        {% if session.status == "attended" %}{% if not session.note %}<span class="flag">no note yet</span>{% elif session.note.signed_at %}<span>note signed</span>{% else %}<span><span class="flag">note not signed</span> (draft, version {{ session.note.version }})</span>{% endif %}{% endif %}
        {% if session.note.signer_id == user.pk and session.therapist_id != user.pk %}<span>handed to you to write and sign</span>{% endif %}
        {% if session.overdue %}<span class="flag flag-risk">over 48 hours</span>{% endif %}
      </span>
      {% endif %}
    </div>
    <div class="d-flex flex-wrap gap-1 day-session-actions">
      {% if session.status == "scheduled" and session.scheduled_start <= now %}
      <form method="post" action="{% url 'therapy:attendance' session.pk %}">{% csrf_token %}<input type="hidden" name="status" value="attended"><button type="submit" class="btn btn-sm btn-primary" aria-label="Record {{ session.course.patient.full_name }} as attended">Attended</button></form>
      <form method="post" action="{% url 'therapy:attendance' session.pk %}">{% csrf_token %}<input type="hidden" name="status" value="no_show"><button type="submit" class="btn btn-sm btn-outline-secondary" aria-label="Record {{ session.course.patient.full_name }} as did not attend">Did not attend</button></form>
      {% elif session.status == "attended" and not session.note.signed_at %}
        {% if session.note %}
        <a class="btn btn-sm btn-primary" href="{% url 'therapy:note' session.pk %}" aria-label="Open the note of {{ session.course.patient.full_name }}'s session">Open note</a>
        {% else %}
        <form method="post" action="{% url 'therapy:note_start' session.pk %}">{% csrf_token %}<button type="submit" class="btn btn-sm btn-primary" aria-label="Write the note of {{ session.course.patient.full_name }}'s session">Write note</button></form>
        {% endif %}
      {% elif session.note and not session.note.signed_at and session.status != "cancelled_patient" and session.status != "cancelled_clinic" %}
        <a class="btn btn-sm btn-outline-primary" href="{% url 'therapy:note' session.pk %}" aria-label="Open the note of {{ session.course.patient.full_name }}'s session">Open note</a>
      {% endif %}
    </div>
  </div>
</li>{% endfor %}{% endtimezone %}"""  # noqa: E501
)


@pytest.fixture
def sessions(therapist, other_therapist, clinic):
    """A session in every state the lists show."""
    with time_machine.travel(NOW, tick=False):
        patient = PatientFactory(primary_therapist=therapist, first_name='<b>Al & "Co"</b>')
        course = CourseFactory(patient=patient, planned_sessions=12)
        made = [
            # attended, no note yet
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(days=9), status="attended"
            ),
            # attended, a draft note (version 3)
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(days=8), status="attended"
            ),
            # attended, its note signed
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(days=7), status="attended"
            ),
            # attended with another therapist, the note handed to this one
            SessionFactory(
                course=course,
                therapist=other_therapist,
                scheduled_start=NOW - timedelta(days=6),
                status="attended",
            ),
            # did not attend, a draft note left
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(days=5), status="no_show"
            ),
            # cancelled, a draft note left
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(days=4), status="cancelled_clinic"
            ),
            # booked and begun: attendance not recorded
            SessionFactory(
                course=course, scheduled_start=NOW - timedelta(hours=2), modality="video"
            ),
            # booked, ahead, with a note started early
            SessionFactory(
                course=course, scheduled_start=NOW + timedelta(hours=3), modality="phone"
            ),
            # booked, further ahead
            SessionFactory(course=course, scheduled_start=NOW + timedelta(days=6)),
        ]
        notes = {
            1: {"version": 3},
            2: {"signed_at": NOW},
            3: {"signer": therapist},
            4: {},
            5: {},
            7: {},
        }
        for index, fields in notes.items():
            SessionNote.objects.create(
                clinic=clinic, session=made[index], phase="initial", **fields
            )
        read = {s.pk: s for s in _sessions_seen_by(therapist).filter(pk__in=[s.pk for s in made])}
    ordered = [read[s.pk] for s in made]
    for session in ordered[:3]:
        session.overdue = True
    return ordered


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("show_day", [True, False])
def test_the_items_are_the_partials(sessions, therapist, zone, show_day):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    with time_machine.travel(NOW, tick=False):
        context = {"sessions": sessions, "now": NOW, "user": therapist, "show_day": show_day}
        partial = PARTIAL.render(Context({**context, "tz": tz, "csrf_token": "TOKEN"}))
        rows = DayRows(user=therapist, now=NOW, csrf_token="TOKEN")
        with timezone.override(tz):  # as the home's {% timezone %} block makes it current
            items = rows.items(sessions, show_day=show_day)
    assert _events(items) == _events(partial)
    assert "&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt;" in items
    assert rows.items([], show_day=show_day) == ""


def test_without_a_token_the_forms_have_none_as_the_partials(sessions, therapist):
    with time_machine.travel(NOW, tick=False):
        context = {"sessions": sessions, "now": NOW, "user": therapist, "show_day": True}
        partial = PARTIAL.render(Context({**context, "tz": UTC}))
        with timezone.override(UTC):
            items = DayRows(user=therapist, now=NOW, csrf_token=None).items(sessions, show_day=True)
    assert _events(items) == _events(partial)
    assert "csrfmiddlewaretoken" not in items
