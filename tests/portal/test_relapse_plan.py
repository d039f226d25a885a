"""The relapse-prevention plan appears once the course reaches termination."""

from django.urls import reverse

from phases.models import Phase, RelapsePreventionPlan
from tests.factories import RelationshipFactory


def _plan(course):
    plan = RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Stopping seeing friends",
        coping_strategies="Evening walks",
        if_symptoms_return="Book a maintenance session",
    )
    plan.supports.add(RelationshipFactory(patient=course.patient, name="Aunt Rosa"))
    return plan


def test_it_hides_the_plan_before_termination(portal_client, course):
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    _plan(course)
    body = portal_client.get(reverse("portal:plan")).content.decode()
    assert "Stopping seeing friends" not in body
    assert reverse("portal:plan") not in portal_client.get(reverse("portal:home")).content.decode()


def test_it_shows_the_plan_in_termination(portal_client, course):
    course.phase = Phase.TERMINATION
    course.save()
    _plan(course)
    assert reverse("portal:plan") in portal_client.get(reverse("portal:home")).content.decode()
    body = portal_client.get(reverse("portal:plan")).content.decode()
    for text in ("Stopping seeing friends", "Evening walks", "Book a maintenance session"):
        assert text in body
    assert "Aunt Rosa" in body
