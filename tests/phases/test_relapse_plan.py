import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import RelapsePreventionPlan
from phases.services import relapse_plan_save
from tests.factories import PatientFactory, RelationshipFactory

pytestmark = pytest.mark.django_db

PLAN = {
    "warning_signs": "Waking at 4am; cancelling plans",
    "coping_strategies": "Walk daily; tell Sam how I feel",
    "if_symptoms_return": "Call the clinic and book a maintenance session",
    "maintenance_offered": True,
}


def test_it_writes_then_changes_the_plan_with_supports(course, therapist):
    sam = RelationshipFactory(patient=course.patient, name="Sam")
    jo = RelationshipFactory(patient=course.patient, name="Jo")
    plan = relapse_plan_save(
        course=course, by=therapist, expected_version=0, supports=[sam], **PLAN
    )
    assert list(plan.supports.all()) == [sam]
    relapse_plan_save(course=course, by=therapist, expected_version=1, supports=[sam, jo], **PLAN)
    assert RelapsePreventionPlan.objects.filter(course=course).count() == 1
    update = AuditEvent.objects.get(action="update", object_type="phases.relapsepreventionplan")
    assert update.changes == {"supports": [[sam.pk], sorted([sam.pk, jo.pk])]}


def test_it_refuses_supports_from_another_patient(course, therapist):
    stranger = RelationshipFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError):
        relapse_plan_save(
            course=course, by=therapist, expected_version=None, supports=[stranger], **PLAN
        )
    assert not RelapsePreventionPlan.objects.exists()


def test_the_form_offers_only_this_patients_people(course, therapist, therapist_client):
    sam = RelationshipFactory(patient=course.patient, name="Sam")
    RelationshipFactory(patient=PatientFactory(primary_therapist=therapist), name="Stranger")
    url = reverse("phases:relapse_plan", args=[course.pk])
    body = therapist_client.get(url).content.decode()
    assert "Sam" in body and "Stranger" not in body
    response = therapist_client.post(
        url, {**PLAN, "version": 0, "maintenance_offered": "on", "supports": [sam.pk]}
    )
    assert response.status_code == 302
    plan = RelapsePreventionPlan.objects.get(course=course)
    assert plan.maintenance_offered is True
    assert list(plan.supports.all()) == [sam]


def test_it_keeps_the_typed_plan_on_a_missing_field(course, therapist_client):
    response = therapist_client.post(
        reverse("phases:relapse_plan", args=[course.pk]),
        {"version": 0, "warning_signs": "Snapping at the kids", "coping_strategies": ""},
    )
    assert response.status_code == 200
    assert "Snapping at the kids" in response.content.decode()
    assert not RelapsePreventionPlan.objects.exists()
