"""One course as a FHIR Bundle: valid by the fhir.resources models, every reference resolvable,
and the round trip (every resource parsed back and compared with the database)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from interop.fhir import References, course_bundle, course_resources, resource_id, validated
from interop.selectors import courses_for_export
from patients.models import Patient
from phases.models import GoalStatus, TreatmentCourse
from sessions.measures import measure_record
from sessions.models import Measure
from tests.factories import GoalFactory, ProblemAreaFactory, SessionFactory

from .roundtrip import compare_course


def _bundle_resources(course) -> list[dict]:
    full = courses_for_export(TreatmentCourse.objects.filter(pk=course.pk)).get()
    bundle = course_bundle(full, now=timezone.now())
    parsed = Bundle.model_validate_json(bundle.model_dump_json())
    return [json.loads(entry.resource.model_dump_json()) for entry in parsed.entry]


@pytest.mark.parametrize("last_name", ["Doyle", "Kemp", "Shah", "Lowe"])
def test_it_exports_each_demo_story_as_a_bundle_that_round_trips(demo_seeded, db, last_name):
    with time_machine.travel(demo_seeded + timedelta(hours=1), tick=False):
        course = Patient.objects.get(
            last_name=last_name, record_number__startswith="NG-"
        ).courses.get()
        resources = _bundle_resources(course)
    compare_course(course, resources)
    kinds = {r["resourceType"] for r in resources}
    assert {"Patient", "Practitioner", "EpisodeOfCare"} <= kinds


def test_margarets_bundle_has_every_kind_of_resource(demo_seeded, db):
    with time_machine.travel(demo_seeded + timedelta(hours=1), tick=False):
        course = Patient.objects.get(last_name="Doyle").courses.get()
        full = courses_for_export(TreatmentCourse.objects.filter(pk=course.pk)).get()
        bundle = course_bundle(full, now=timezone.now())
    body = json.loads(bundle.model_dump_json())
    assert body["type"] == "collection"
    kinds = {entry["resource"]["resourceType"] for entry in body["entry"]}
    assert kinds == {
        "Patient",
        "Practitioner",
        "EpisodeOfCare",
        "Condition",
        "Encounter",
        "QuestionnaireResponse",
        "Observation",
        "Goal",
        "CarePlan",
        "Provenance",
    }
    for entry in body["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    plan = course.relapse_plan
    careplan = next(
        e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "CarePlan"
    )
    notes = " ".join(note["text"] for note in careplan["note"])
    assert plan.warning_signs in notes and plan.if_symptoms_return in notes
    # Nothing of the notes' free text, nor any portal link.
    text = json.dumps(body)
    from sessions.models import SessionNote

    for note in SessionNote.objects.filter(session__course=course).exclude(narrative=""):
        assert note.narrative not in text
    assert "/p/" not in text


def test_every_reference_resolves_inside_the_bundle(demo_seeded, db):
    from interop.fhir import unresolved_references

    with time_machine.travel(demo_seeded + timedelta(hours=1), tick=False):
        for patient in Patient.objects.filter(record_number__startswith="NG-000"):
            for course in patient.courses.all():
                resources = _bundle_resources(course)
                assert unresolved_references(resources, bundle=True) == []


def test_ids_are_stable_from_one_export_to_the_next(course):
    ProblemAreaFactory(course=course)
    first = {r["id"] for r in _bundle_resources(course)}
    second = {r["id"] for r in _bundle_resources(course)}
    assert first == second
    assert resource_id("patients.patient", course.patient_id) in first


def test_a_corrected_questionnaire_exports_the_correction_and_voids_the_first(course):
    session = SessionFactory(
        course=course, status="attended", scheduled_start=timezone.now() - timedelta(days=2)
    )
    taken = timezone.now() - timedelta(days=2)
    first = Measure.objects.create(
        clinic=course.clinic,
        course=course,
        session=session,
        instrument="phq9",
        answers=[1] * 9,
        total=9,
        severity="mild",
        taken_at=taken,
        superseded_at=taken + timedelta(minutes=5),
    )
    correction = Measure.objects.create(
        clinic=course.clinic,
        course=course,
        session=session,
        instrument="phq9",
        answers=[2] * 9,
        total=18,
        severity="moderately severe",
        taken_at=taken,
        corrects=first,
    )
    resources = _bundle_resources(course)
    compare_course(course, resources)
    statuses = {r["id"]: r["status"] for r in resources if r["resourceType"] == "Observation"}
    assert statuses[resource_id("therapy.measure", first.pk, "observation")] == "entered-in-error"
    assert statuses[resource_id("therapy.measure", correction.pk, "observation")] == "amended"


def test_a_wsas_round_trips_under_the_projects_own_code_system(course, therapist):
    """The WSAS has no LOINC codes to vouch for: it goes out under the project's code system,
    its answers coded by their score; a work item left unscored is left out of the response
    and said in the Observation's note."""
    session = SessionFactory(
        course=course, status="attended", scheduled_start=timezone.now() - timedelta(days=2)
    )
    full = measure_record(
        course=course, instrument="wsas", answers=[8, 7, 6, 0, 2], entered_by=therapist
    )
    retired = measure_record(
        course=course,
        instrument="wsas",
        answers=[None, 3, 4, 2, 1],
        entered_by=therapist,
        session=session,
    )
    measure_record(course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist)
    resources = _bundle_resources(course)
    compare_course(course, resources)
    by_id = {r["id"]: r for r in resources}

    response = by_id[resource_id("therapy.measure", full.pk, "questionnaire-response")]
    assert response["questionnaire"] == "urn:x-ipt-clinic:code-system:wsas:questionnaire"
    assert [item["linkId"] for item in response["item"]] == [
        *(f"item-{n}" for n in range(1, 6)),
        "total",
    ]
    answer = response["item"][1]["answer"][0]["valueCoding"]
    assert (answer["system"], answer["code"]) == ("urn:x-ipt-clinic:code-system:wsas", "7")
    assert response["item"][0]["answer"][0]["valueCoding"]["display"] == "Very severely"
    observation = by_id[resource_id("therapy.measure", full.pk, "observation")]
    assert observation["code"]["coding"][0]["system"] == "urn:x-ipt-clinic:code-system:wsas"
    assert (observation["valueInteger"], observation["interpretation"][0]["text"]) == (
        23,
        "severe impairment",
    )

    response = by_id[resource_id("therapy.measure", retired.pk, "questionnaire-response")]
    assert [item["linkId"] for item in response["item"]] == [
        "item-2",
        "item-3",
        "item-4",
        "item-5",
        "total",
    ]
    assert response["encounter"]["reference"].endswith(
        resource_id("therapy.therapysession", session.pk)
    )
    observation = by_id[resource_id("therapy.measure", retired.pk, "observation")]
    notes = " ".join(note["text"] for note in observation["note"])
    assert "Work item not applicable" in notes and "out of 32" in notes
    assert observation["valueInteger"] == 10


def test_goal_statuses_round_trip(course):
    area = ProblemAreaFactory(course=course)
    for status in GoalStatus.values:
        GoalFactory(problem_area=area, text=f"Goal {status}", status=status)
    removed = GoalFactory(problem_area=area, text="Typed by mistake", removed_at=timezone.now())
    resources = _bundle_resources(course)
    compare_course(course, resources)
    assert resource_id("phases.goal", removed.pk) not in {r["id"] for r in resources}


def test_a_resource_its_model_refuses_fails_the_export(course):
    full = courses_for_export(TreatmentCourse.objects.filter(pk=course.pk)).get()
    episode = next(
        r
        for r in course_resources(full, References(bundle=True))
        if r["resourceType"] == "EpisodeOfCare"
    )
    validated(episode)
    broken = {key: value for key, value in episode.items() if key != "patient"}
    with pytest.raises(ValidationError):
        validated(broken)
    with pytest.raises(ValidationError):
        validated({**episode, "period": {"start": "the fourth of May"}})
    with pytest.raises(ValidationError):
        validated({**episode, "id": "not an id!"})


def test_a_broken_builder_output_fails_the_bundle(course, monkeypatch):
    """A builder that leaves out a required element (here the Goal's description) raises
    instead of writing an invalid Bundle."""
    import interop.fhir as fhir

    GoalFactory(problem_area=ProblemAreaFactory(course=course))
    original = fhir.course_resources

    def without_description(course, ref, **kwargs):
        resources = original(course, ref, **kwargs)
        for resource in resources:
            if resource["resourceType"] == "Goal":
                resource.pop("description")
        return resources

    monkeypatch.setattr(fhir, "course_resources", without_description)
    full = courses_for_export(TreatmentCourse.objects.filter(pk=course.pk)).get()
    with pytest.raises(ValidationError):
        fhir.course_bundle(full, now=timezone.now())
