"""Problem areas with the manual's own fields (issue 22, point 2): who died is a person of the
inventory marked as died, the other party of a dispute a living one, each kind keeps its own
fields, and interpersonal deficits beside another area draws the manual's warning."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from phases.forms import ProblemAreaForm
from phases.models import ProblemArea
from phases.services import deficits_warning, problem_area_create, problem_area_update
from tests.factories import ProblemAreaFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def test_it_grieves_only_a_person_marked_as_died(course, therapist):
    mum = RelationshipFactory(patient=course.patient, kind="parent", name="Mum")
    with pytest.raises(ValidationError) as refused:
        problem_area_create(course=course, by=therapist, kind="grief", deceased=mum)
    assert "Mum is not marked as died" in refused.value.message_dict["deceased"][0]
    assert not ProblemArea.objects.filter(course=course).exists()

    mum.deceased, mum.died_on = True, date(2025, 3, 2)
    mum.save()
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="grief",
        deceased=mum,
        relationship_reconstructed="Close, but she never said she was proud of him.",
        mourning="complicated",
        anniversaries="Her birthday in May; the day she died in March.",
    )
    area.refresh_from_db()
    assert (area.deceased, area.mourning) == (mum, "complicated")
    assert area.anniversaries.startswith("Her birthday")


def test_it_takes_a_dispute_only_with_a_living_person(course, therapist):
    brother = RelationshipFactory(
        patient=course.patient, kind="sibling", name="Tom", deceased=True, died_on=date(2024, 1, 9)
    )
    with pytest.raises(ValidationError) as refused:
        problem_area_create(
            course=course,
            by=therapist,
            kind="role_dispute",
            other_party=brother,
            dispute_stage="impasse",
        )
    assert "Tom has died" in refused.value.message_dict["other_party"][0]
    partner = RelationshipFactory(patient=course.patient, kind="partner", name="Sam")
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="role_dispute",
        other_party=partner,
        dispute_stage="impasse",
        non_reciprocal_expectations="She expects half the housework; he expects none.",
        dispute_options="A rota; a cleaner; couples counselling.",
    )
    assert area.dispute_options == "A rota; a cleaner; couples counselling."


def test_it_keeps_a_role_transitions_losses_gains_skills_and_supports(course, therapist):
    area = problem_area_create(
        course=course,
        by=therapist,
        kind="role_transition",
        old_role="Nurse",
        new_role="Retired",
        old_role_losses="Colleagues, a reason to get up.",
        old_role_gains="No night shifts.",
        new_role_losses="Long empty days.",
        new_role_gains="Time with the grandchildren.",
        new_role_skills="Filling a week without a rota.",
        new_role_supports="The walking group; her sister.",
        social_isolation="stray value from another kind",
    )
    area.refresh_from_db()
    assert (area.old_role_losses, area.new_role_supports) == (
        "Colleagues, a reason to get up.",
        "The walking group; her sister.",
    )
    assert area.social_isolation == ""
    # Switched to deficits, the transition's fields go and isolation stays.
    area = problem_area_update(
        problem_area=area,
        by=therapist,
        expected_version=area.version,
        kind="interpersonal_deficits",
        social_isolation="No friends since moving here two years ago.",
    )
    area.refresh_from_db()
    assert area.social_isolation == "No friends since moving here two years ago."
    assert (area.old_role, area.new_role_skills, area.old_role_gains) == ("", "", "")


def test_it_offers_the_dead_for_grief_and_the_living_for_a_dispute(course):
    living = RelationshipFactory(patient=course.patient, name="Sam")
    dead = RelationshipFactory(patient=course.patient, name="Frank", deceased=True)
    form = ProblemAreaForm(patient=course.patient)
    assert list(form.fields["deceased"].queryset) == [dead]
    assert list(form.fields["other_party"].queryset) == [living]


def test_it_warns_when_deficits_sit_beside_another_area(course, therapist, therapist_client):
    grief = ProblemAreaFactory(
        course=course,
        kind="grief",
        old_role="",
        new_role="",
        deceased=RelationshipFactory(patient=course.patient, deceased=True),
    )
    assert deficits_warning([grief]) == ""
    response = therapist_client.post(
        reverse("phases:problem_area_create", args=[course.pk]),
        {"kind": "interpersonal_deficits", "social_isolation": "Sees nobody outside work."},
        follow=True,
    )
    body = response.content.decode()
    assert "keeps for when no other problem area applies" in body
    assert "this course also has grief" in body
    # The course page goes on saying so while both are there.
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "this course also has grief" in page
    assert "Sees nobody outside work." in page
    # The form says so before it is chosen.
    form = therapist_client.get(reverse("phases:problem_area_create", args=[course.pk]))
    assert "this course already has grief" in form.content.decode()


def test_it_does_not_warn_about_deficits_alone(course, therapist_client):
    response = therapist_client.post(
        reverse("phases:problem_area_create", args=[course.pk]),
        {"kind": "interpersonal_deficits", "social_isolation": "Few friends."},
        follow=True,
    )
    assert "no other problem area applies" not in response.content.decode()
    assert ProblemArea.objects.get(course=course).kind == "interpersonal_deficits"


def test_the_course_page_shows_each_kinds_fields(course, therapist, therapist_client):
    mum = RelationshipFactory(
        patient=course.patient, name="Mum", kind="parent", deceased=True, died_on=date(2025, 3, 2)
    )
    problem_area_create(
        course=course,
        by=therapist,
        kind="grief",
        deceased=mum,
        mourning="normal",
        relationship_reconstructed="She taught him to swim.",
        anniversaries="2 March",
    )
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Who died: Mum (parent, died 2 Mar 2025)" in page
    assert "Normal mourning" in page
    assert "She taught him to swim." in page
