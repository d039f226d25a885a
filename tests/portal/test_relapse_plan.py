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


def test_home_offers_no_plan_in_termination_until_one_is_written(portal_client, course):
    course.phase = Phase.TERMINATION
    course.save()
    assert reverse("portal:plan") not in portal_client.get(reverse("portal:home")).content.decode()


def test_home_keeps_the_plan_and_drops_the_questionnaires_once_the_course_is_completed(
    portal_client, course
):
    from phases.models import CourseStatus

    questionnaire = reverse("portal:questionnaire", args=["phq9"])
    _plan(course)
    course.phase = Phase.TERMINATION
    course.save()
    home = portal_client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:plan") in home and questionnaire in home
    course.phase, course.status = Phase.COMPLETED, CourseStatus.COMPLETED
    course.save()
    home = portal_client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:plan") in home
    assert questionnaire not in home
