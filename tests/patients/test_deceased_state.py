"""Death is a state of a person in the inventory, not a kind of relationship (issue 22,
point 2): "mother, died 2025" keeps who she was, the inventory form marks it, and the
circle and the patient page say it."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients.circle import CirclePerson, circle_svg
from patients.models import Relationship, RelationshipKind, RelationshipRevision
from patients.services import RELATIONSHIP_FORM
from tests.factories import RelationshipFactory
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db


def test_it_has_no_relationship_kind_for_the_dead():
    assert "deceased" not in RelationshipKind.values


def test_it_marks_a_mother_as_died_from_the_inventory_form(patient, therapist_client):
    response = therapist_client.post(
        reverse("patients:relationship_create", args=[patient.pk]),
        {
            "name": "Mum",
            "kind": "parent",
            "died_on": "2025-06-14",  # the date alone says so
            "ring": "1",
            "expectations_met": "unknown",
            "form_key": fresh_key(RELATIONSHIP_FORM, patient),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mum = Relationship.objects.get(patient=patient)
    assert (mum.kind, mum.deceased, mum.died_on) == ("parent", True, date(2025, 6, 14))
    assert str(mum) == "Mum (parent, died 2025)"
    revision = RelationshipRevision.objects.get(relationship=mum)
    assert revision.deceased is True
    page = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Parent · died 2025" in page


def test_it_refuses_a_date_of_death_for_someone_not_marked_as_died(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        RelationshipFactory(patient=patient, deceased=False, died_on=date(2025, 1, 1))


def test_the_circle_marks_the_dead_without_colour():
    svg = circle_svg(
        [
            CirclePerson(1, "Frank", "partner", 1, deceased=True),
            CirclePerson(2, "Claire", "child", 1),
        ],
        centre_label="Margaret",
        svg_id="c",
        title="Circle",
    )
    assert "Frank — Partner / spouse, has died, ring 1" in svg
    assert ">Frank †</text>" in svg
    assert "† after a name: has died" in svg
    assert "Claire — Child, ring 1</title>" in svg


def test_the_relapse_plan_turns_only_to_the_living(course, therapist):
    from django.core.exceptions import ValidationError

    from phases.forms import RelapsePlanForm
    from phases.services import relapse_plan_save

    frank = RelationshipFactory(patient=course.patient, name="Frank", deceased=True)
    pat = RelationshipFactory(patient=course.patient, name="Pat")
    form = RelapsePlanForm(patient=course.patient, version=0)
    assert list(form.fields["supports"].queryset) == [pat]
    with pytest.raises(ValidationError) as refused:
        relapse_plan_save(
            course=course,
            by=therapist,
            expected_version=0,
            supports=[pat, frank],
            warning_signs="Staying in bed.",
            coping_strategies="The choir.",
            if_symptoms_return="Call the clinic.",
        )
    assert refused.value.message_dict["supports"] == ["Frank has died: choose living people."]
