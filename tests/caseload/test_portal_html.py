"""caseload/portal_html.py writes each item of the home's portal panel as the panel's loop
it replaced (kept here) wrote it: the same elements, attributes and text, element by element
(only the blank space between tags may differ), for questionnaires with and without a risk
flag, both answers to a shared formulation with and without a comment, homework done and not
done with and without a reflection, long texts cut as ``truncatechars`` cuts them, and text
that needs escaping."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from caseload.portal_html import portal_items
from phases.models import FormulationAnswer
from sessions.models import Assignment, Measure
from sessions.portal_activity import PortalActivity
from tests.factories import CourseFactory, PatientFactory
from tests.html_events import html_events as _events

pytestmark = pytest.mark.django_db

LOOP = Template(
    """      {% for item in portal_activity %}
      <li class="list-group-item px-0">
        <span class="fw-semibold">{{ item.patient.full_name }}</span>
        {% if item.kind == "self_report" %}
          filled in a {{ item.measure.get_instrument_display }}: {{ item.measure.total }} ({{ item.measure.severity }})
          {% if item.risk_flag %}<span class="badge text-bg-danger">Item 9 positive — risk flag</span>{% endif %}
        {% elif item.kind == "formulation" %}
          {% with answer=item.formulation_answer %}<a href="{% url 'phases:course' answer.course_id %}#formulation-for-patient">{% if answer.answer == "agree" %}agreed with the formulation you shared{% else %}would like to talk about the formulation you shared{% endif %}</a>{% if answer.comment %}: “{{ answer.comment|truncatechars:120 }}”{% endif %}{% endwith %}
        {% else %}
          marked homework “{{ item.assignment.title }}” {% if item.assignment.status == "done" %}done{% else %}not done{% endif %}{% if item.assignment.reflection %}: “{{ item.assignment.reflection|truncatechars:120 }}”{% endif %}
        {% endif %}
        <span class="d-block small text-body-secondary">{{ item.at|timesince }} ago</span>
      </li>
      {% endfor %}"""
)


def test_the_items_are_the_loops(therapist):
    now = timezone.now()
    patient = PatientFactory(primary_therapist=therapist, first_name='<b>Al & "Co"</b>')
    course = CourseFactory(patient=patient)
    long = "A long reflection <with markup> & more. " * 6
    items = []
    for instrument, total, severity, risk in (
        ("phq9", 17, "moderately severe", True),
        ("gad7", 4, "minimal", False),
        ("unknown", 3, "<odd>", False),
    ):
        measure = Measure(
            course=course, instrument=instrument, total=total, severity=severity, risk_flag=risk
        )
        items.append(PortalActivity(at=now, kind="self_report", patient=patient, measure=measure))
    for answer, comment in (("agree", ""), ("talk", "The bit about <Tom>"), ("agree", long)):
        formulation = FormulationAnswer(pk=7, course=course, answer=answer, comment=comment)
        items.append(
            PortalActivity(
                at=now - timedelta(hours=3),
                kind="formulation",
                patient=patient,
                formulation_answer=formulation,
            )
        )
    for status, reflection in (("done", ""), ("not_done", "Too <busy>"), ("done", long)):
        assignment = Assignment(
            course=course, title="Ring <Dad> & Mum", status=status, reflection=reflection
        )
        items.append(
            PortalActivity(
                at=now - timedelta(days=2, minutes=5),
                kind="homework",
                patient=patient,
                assignment=assignment,
            )
        )
    items.append(PortalActivity(at=None, kind="homework", patient=patient, assignment=assignment))
    written = portal_items(items)
    assert _events(written) == _events(LOOP.render(Context({"portal_activity": items})))
    assert "&lt;b&gt;Al &amp; &quot;Co&quot;&lt;/b&gt;" in written
    assert portal_items([]) == ""
