"""patients/page_html.py writes the patient page's inventory rows and timeline items as the
template fragments it replaced wrote them: the same elements, attributes and text, element by
element (only the blank space between tags may differ), for every state a person or an event
can be in, with text that needs escaping; and the page shows them."""

from datetime import date

import pytest
from django.template import Context, Template
from django.urls import reverse

from patients.models import LifeEvent, Relationship
from patients.page_html import relationship_rows, timeline_items
from tests.factories import LifeEventFactory, RelationshipFactory
from tests.html_events import html_events as _events

pytestmark = pytest.mark.django_db

# The template fragments as the patient page had them (templates/patients/detail.html).
PEOPLE = Template(
    """{% for person in relationships %}
          <tr>
            <td><strong>{{ person.name }}</strong><br><span class="small">{{ person.get_kind_display }}{% if person.deceased %} · died{% if person.died_on %} {{ person.died_on|date:"Y" }}{% endif %}{% endif %}{% if person.is_support %} · support{% endif %}{% if person.changed_near_onset %} · changed near onset{% if person.change_when %} ({{ person.change_when }}){% endif %}{% endif %}</span></td>
            <td>{{ person.ring }}</td>
            <td class="small">{{ person.contact_frequency|default:"—" }}</td>
            <td class="small">{{ person.get_expectations_met_display }}</td>
            <td class="text-end">
              <a class="btn btn-link btn-sm" href="{% url 'patients:relationship_edit' person.pk %}">Edit<span class="visually-hidden"> {{ person.name }}</span></a>
              <form method="post" action="{% url 'patients:relationship_remove' person.pk %}" class="d-inline">{% csrf_token %}<button type="submit" class="btn btn-link btn-sm text-danger">Remove<span class="visually-hidden"> {{ person.name }}</span></button></form>
            </td>
          </tr>
          {% if person.satisfying or person.unsatisfying or person.wants_to_change or person.disputes %}
          <tr class="small text-body-secondary"><td colspan="5">
            {% if person.satisfying %}<div><strong>Satisfying:</strong> {{ person.satisfying }}</div>{% endif %}
            {% if person.unsatisfying %}<div><strong>Not satisfying:</strong> {{ person.unsatisfying }}</div>{% endif %}
            {% if person.disputes %}<div><strong>Disputes:</strong> {{ person.disputes }}</div>{% endif %}
            {% if person.wants_to_change %}<div><strong>Would like to change:</strong> {{ person.wants_to_change }}</div>{% endif %}
          </td></tr>
          {% endif %}
        {% endfor %}"""  # noqa: E501
)
EVENTS = Template(
    """{% for event in life_events %}
    <li class="timeline-item mood-{{ event.mood_effect }}">
      <time datetime="{{ event.occurred_on|date:'Y-m-d' }}" class="fw-semibold">{{ event.occurred_on|date:"j M Y" }}</time>
      — {{ event.description }}{% if event.relationship %} <span class="text-body-secondary">(with {{ event.relationship.name }})</span>{% endif %}
      · <span class="mood-effect">{{ event.get_mood_effect_display }}</span>
      <a class="btn btn-link btn-sm" href="{% url 'patients:life_event_edit' event.pk %}">Edit</a>
    </li>
    {% endfor %}"""  # noqa: E501
)


@pytest.fixture
def people(patient):
    tricky = '<b>Al & "Co"</b>'
    return [
        RelationshipFactory(patient=patient, name="Sam", kind="friend", ring=1),
        RelationshipFactory(
            patient=patient,
            name="Mum",
            kind="parent",
            deceased=True,
            died_on=date(2025, 3, 4),
            contact_frequency="Never now",
            expectations_met="partly",
            satisfying="Her stories",
            wants_to_change="Grieve less alone",
        ),
        RelationshipFactory(patient=patient, name="Grandad", kind="family", deceased=True),
        RelationshipFactory(
            patient=patient,
            name=tricky,
            kind="colleague",
            ring=3,
            is_support=True,
            changed_near_onset=True,
            change_when=f"after the move ({tricky})",
            unsatisfying=tricky,
            disputes="Who does the <rota>",
        ),
        RelationshipFactory(patient=patient, name="Chris", changed_near_onset=True),
    ]


def test_the_inventory_rows_are_the_templates(people):
    people = list(Relationship.objects.filter(pk__in=[p.pk for p in people]))
    template = PEOPLE.render(Context({"relationships": people, "csrf_token": "TOKEN"}))
    assert _events(relationship_rows(people, csrf_token="TOKEN")) == _events(template)
    assert "&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt;" in relationship_rows(
        people, csrf_token="TOKEN"
    )
    assert relationship_rows([], csrf_token="TOKEN") == ""


def test_the_timeline_items_are_the_templates(people, patient):
    mum, tricky = people[1], people[3]
    events = [
        LifeEventFactory(patient=patient, occurred_on=date(2024, 1, 9), mood_effect=-2),
        LifeEventFactory(
            patient=patient, relationship=mum, occurred_on=date(2025, 3, 4), mood_effect=-1
        ),
        LifeEventFactory(
            patient=patient,
            relationship=tricky,
            description="Row about <the rota> & more",
            occurred_on=date(2026, 12, 25),
            mood_effect=2,
        ),
        LifeEventFactory(patient=patient, occurred_on=date(2026, 7, 1), mood_effect=0),
    ]
    events = list(LifeEvent.objects.filter(pk__in=[e.pk for e in events]))
    template = EVENTS.render(Context({"life_events": events}))
    assert _events(timeline_items(events)) == _events(template)
    assert timeline_items([]) == ""


def test_the_page_shows_them(people, patient, therapist_client):
    LifeEventFactory(patient=patient, relationship=people[1], description="Mum died")
    page = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "(with Mum)" in page and "Mum died" in page
    assert page.count('name="csrfmiddlewaretoken"') >= len(people)
    for person in people:
        assert reverse("patients:relationship_remove", args=[person.pk]) in page
