"""One course as FHIR resources (R4B, the R4 line's technical correction: ``fhir.resources.R4B``).

Every resource is built as a plain dict and then validated by its ``fhir.resources`` model
(``validated``): anything the models refuse (a missing required element, a value of the wrong
type, an id outside FHIR's pattern) raises ``pydantic.ValidationError`` and no export is
written. What goes out, per course:

- Patient: the clinic's record number as identifier (a clinic-specific system naming no
  treatment), name, date of birth. Nothing of the portal, no contact details.
- Practitioner: each member of staff a resource names (name only).
- EpisodeOfCare: the course (active, finished, or cancelled for a course the patient dropped
  out of: FHIR's "terminated outside the planned workflow").
- Condition: the course's target diagnosis, as written (when there is one).
- Encounter: each held (attended) session; nothing of its note.
- QuestionnaireResponse and Observation: each PHQ-9 and GAD-7, with LOINC codes, the item
  answers and the total with its severity band (see ``measure_status`` for corrections); each
  WSAS the same way under this project's own code system (``WSAS_SYSTEM``: no LOINC panel for
  it could be vouched for), its work item left out when it went unscored.
- Goal: each goal of the course (removed ones are not part of it), with its status.
- CarePlan: the relapse-prevention plan, its content in notes.
- Provenance: each signed session note's signing therapist, for that session's Encounter.

Ids are stable: a UUID derived from the record's model and primary key, so exporting again
gives the same ids. References take one of two forms for a whole export (``References``):
``urn:uuid:<id>`` inside a Bundle (each entry's fullUrl), ``<Type>/<id>`` in the bulk NDJSON
files, where each resource lives in its type's file.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from phases.models import CourseStatus, CourseType, GoalStatus
from sessions.models import EnteredBy, Modality
from sessions.scoring import INSTRUMENTS, unscored_words

from .selectors import course_plan

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


# The WSAS (Work and Social Adjustment Scale, Mundt et al. 2002) has no LOINC panel, total
# or answer list that we could vouch for, so it goes out under a code system of this project:
# "panel", "total" and "item-1".."item-5" for the questions, "0".."8" for the answers (each with
# its ordinal value). A receiver that maps it to a standard code later can do so from these.
WSAS_SYSTEM = "urn:x-ipt-clinic:code-system:wsas"


@dataclass(frozen=True)
class Panel:
    """An instrument's codes: the panel, the total score and each item, in order, in
    ``system``; its answers in ``answer_system`` (``answer_codes`` by score, or the score
    itself as the code when there are none)."""

    panel: str
    total: str
    items: tuple[str, ...]
    system: str = LOINC
    questionnaire: str = ""
    answer_codes: tuple[str, ...] = ()

    def answer_code(self, score: int) -> str:
        return self.answer_codes[score] if self.answer_codes else str(score)


# The four answers of the PHQ-9 and the GAD-7 (LOINC answer list LL358-3), by score.
ANSWER_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
ANSWER_SCORES = {code: score for score, code in enumerate(ANSWER_CODES)}

PANELS = {
    "phq9": Panel(
        panel="44249-1",
        total="44261-6",
        items=(
            "44250-9",
            "44255-8",
            "44259-0",
            "44254-1",
            "44251-7",
            "44258-2",
            "44252-5",
            "44253-3",
            "44260-8",
        ),
        questionnaire=f"{LOINC}/q/44249-1",
        answer_codes=ANSWER_CODES,
    ),
    "gad7": Panel(
        panel="69737-5",
        total="70274-6",
        items=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
        questionnaire=f"{LOINC}/q/69737-5",
        answer_codes=ANSWER_CODES,
    ),
    "wsas": Panel(
        panel="panel",
        total="total",
        items=("item-1", "item-2", "item-3", "item-4", "item-5"),
        system=WSAS_SYSTEM,
        questionnaire=f"{WSAS_SYSTEM}:questionnaire",
    ),
}

GOAL_STATUSES = {
    # goal status: (lifecycleStatus, achievementStatus code or None)
    GoalStatus.OPEN: ("active", "in-progress"),
    GoalStatus.ACHIEVED: ("completed", "achieved"),
    GoalStatus.PARTLY: ("completed", "improving"),
    GoalStatus.NOT_ACHIEVED: ("completed", "not-achieved"),
    GoalStatus.DROPPED: ("cancelled", None),
}
EPISODE_STATUSES = {
    CourseStatus.ACTIVE: "active",
    CourseStatus.COMPLETED: "finished",
    CourseStatus.DROPPED_OUT: "cancelled",
}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ipt-clinic:fhir-ids")


def resource_id(label: str, pk: int, part: str = "") -> str:
    """The stable id of the resource made from row ``pk`` of model ``label`` (and ``part``,
    for a row that gives more than one resource)."""
    return str(uuid.uuid5(_NAMESPACE, f"{label}/{pk}/{part}"))


def identifier_system(clinic) -> str:
    """The clinic's record-number system: a URI per clinic that names no treatment."""
    return settings.FHIR_IDENTIFIER_SYSTEM.format(clinic=clinic.slug)


class References:
    """How a resource points at another: ``urn:uuid:<id>`` in a Bundle, ``Type/id`` in NDJSON."""

    def __init__(self, *, bundle: bool) -> None:
        self.bundle = bundle

    def __call__(self, resource_type: str, rid: str, display: str = "") -> dict:
        reference = {"reference": f"urn:uuid:{rid}" if self.bundle else f"{resource_type}/{rid}"}
        if display:
            reference["display"] = display
        return reference


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def measure_status(measure) -> tuple[str, str]:
    """(QuestionnaireResponse status, Observation status) of a measure.

    A questionnaire sent again with other answers is kept beside the first (sessions'
    ``Measure.corrects`` / ``superseded_at``). The correction is the patient's answers: its
    QuestionnaireResponse is "amended" (filled out, then changed) and its Observation
    "amended" (a final result, later modified). The superseded one is exported too, since
    clinical records are never deleted and a receiver that took it earlier has to learn it
    is void, as "entered-in-error" for both: its answers are not the patient's, and FHIR says
    such a resource's values must not be used ("amended" would say they are the current
    ones). Anything else is "completed" / "final"."""
    if measure.superseded_at is not None:
        return "entered-in-error", "entered-in-error"
    if measure.corrects_id is not None:
        return "amended", "amended"
    return "completed", "final"


@dataclass
class CourseResources:
    """The resources of one course, as dicts, in the order they are built."""

    resources: list[dict] = field(default_factory=list)

    def add(self, resource: dict) -> dict:
        self.resources.append(resource)
        return resource


def practitioner_resource(user) -> dict:
    name = {"text": user.display_name}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Practitioner",
        "id": resource_id("accounts.user", user.pk),
        "name": [name],
    }


def patient_resource(patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": resource_id("patients.patient", patient.pk),
        "identifier": [
            {
                "use": "usual",
                "system": identifier_system(patient.clinic),
                "value": patient.record_number,
            }
        ],
        "active": patient.status != "archived",
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
    }
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def staff_of(course) -> list:
    """Every member of staff the course's resources name, once each."""
    people = {course.therapist.pk: course.therapist}
    for session in course.held_sessions:
        people.setdefault(session.therapist.pk, session.therapist)
        note = getattr(session, "note", None)
        if note is not None and note.signed_by is not None:
            people.setdefault(note.signed_by.pk, note.signed_by)
    for measure in course.all_measures:
        if measure.entered_by is not None:
            people.setdefault(measure.entered_by.pk, measure.entered_by)
    return list(people.values())


def course_resources(course, ref: References, *, with_patient: bool = True) -> list[dict]:
    """The course's resources as dicts (not yet validated). ``course`` comes from
    ``interop.selectors.courses_for_export`` (its rows prefetched). With ``with_patient``
    false, the Patient and Practitioners are left out (the bulk export writes each once)."""
    out = CourseResources()
    patient = course.patient
    patient_id = resource_id("patients.patient", patient.pk)
    subject = ref("Patient", patient_id)
    if with_patient:
        out.add(patient_resource(patient))
        for user in staff_of(course):
            out.add(practitioner_resource(user))

    def practitioner(user) -> dict:
        return ref("Practitioner", resource_id("accounts.user", user.pk), user.display_name)

    episode_id = resource_id("phases.treatmentcourse", course.pk)
    condition_id = resource_id("phases.treatmentcourse", course.pk, "condition")
    kind = "Maintenance IPT" if course.course_type == CourseType.MAINTENANCE else "IPT"
    episode = {
        "resourceType": "EpisodeOfCare",
        "id": episode_id,
        "status": EPISODE_STATUSES[course.status],
        "type": [{"text": f"Interpersonal psychotherapy ({kind})"}],
        "patient": subject,
        "careManager": practitioner(course.therapist),
        "period": {"start": course.start_date.isoformat()},
    }
    if course.ended_at:
        episode["period"]["end"] = _instant(course.ended_at)
    if course.target_diagnosis:
        episode["diagnosis"] = [{"condition": ref("Condition", condition_id), "rank": 1}]
    out.add(episode)
    episode_ref = ref("EpisodeOfCare", episode_id)

    if course.target_diagnosis:
        out.add(
            {
                "resourceType": "Condition",
                "id": condition_id,
                "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
                "verificationStatus": {
                    "coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]
                },
                "category": [
                    {"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}
                ],
                "code": {"text": course.target_diagnosis},
                "subject": subject,
                "recordedDate": course.start_date.isoformat(),
                "recorder": practitioner(course.therapist),
            }
        )

    encounters = {}
    for session in course.held_sessions:
        encounter_id = resource_id("therapy.therapysession", session.pk)
        encounters[session.pk] = encounter_id
        virtual = session.modality in (Modality.VIDEO, Modality.PHONE)
        end = session.scheduled_start + timedelta(minutes=session.duration_minutes)
        out.add(
            {
                "resourceType": "Encounter",
                "id": encounter_id,
                "status": "finished",
                "class": {
                    "system": ACT_CODE,
                    "code": "VR" if virtual else "AMB",
                    "display": "virtual" if virtual else "ambulatory",
                },
                "type": [{"text": f"IPT session ({session.get_modality_display().lower()})"}],
                "subject": subject,
                "episodeOfCare": [episode_ref],
                "participant": [{"individual": practitioner(session.therapist)}],
                "period": {"start": _instant(session.scheduled_start), "end": _instant(end)},
            }
        )
        note = getattr(session, "note", None)
        if note is not None and note.signed_at is not None and note.signed_by is not None:
            out.add(
                {
                    "resourceType": "Provenance",
                    "id": resource_id("therapy.sessionnote", note.pk, "provenance"),
                    "target": [ref("Encounter", encounter_id)],
                    "occurredDateTime": _instant(session.scheduled_start),
                    "recorded": _instant(note.signed_at),
                    "activity": {"text": "Session note signed"},
                    "agent": [
                        {
                            "type": {
                                "coding": [{"system": PROVENANCE_PARTICIPANT, "code": "author"}]
                            },
                            "who": practitioner(note.signed_by),
                        }
                    ],
                }
            )

    for measure in course.all_measures:
        out.resources.extend(_measure(measure, subject, ref, practitioner, encounters))

    goal_refs = []
    for goal in course.live_goals:
        lifecycle, achievement = GOAL_STATUSES[goal.status]
        goal_id = resource_id("phases.goal", goal.pk)
        resource = {
            "resourceType": "Goal",
            "id": goal_id,
            "lifecycleStatus": lifecycle,
            "description": {"text": goal.text},
            "subject": subject,
            "startDate": goal.created_at.date().isoformat(),
            "note": [{"text": f"Progress {goal.progress}/10 ({goal.get_status_display()})"}],
        }
        if achievement:
            resource["achievementStatus"] = {
                "coding": [{"system": GOAL_ACHIEVEMENT, "code": achievement}],
                "text": goal.get_status_display(),
            }
        if goal.last_reviewed_at:
            resource["statusDate"] = goal.last_reviewed_at.date().isoformat()
        if course.target_diagnosis:
            resource["addresses"] = [ref("Condition", condition_id)]
        out.add(resource)
        goal_refs.append(ref("Goal", goal_id))

    plan = course_plan(course)
    if plan is not None:
        supports = ", ".join(person.name for person in plan.supports.all())
        notes = [
            f"Warning signs: {plan.warning_signs}",
            f"What helps: {plan.coping_strategies}",
            f"People to turn to: {supports or 'none named'}",
            f"If symptoms return: {plan.if_symptoms_return}",
        ]
        if plan.maintenance_offered:
            notes.append(
                "Maintenance sessions offered"
                + (f": {plan.maintenance_notes}" if plan.maintenance_notes else ".")
            )
        careplan = {
            "resourceType": "CarePlan",
            "id": resource_id("phases.relapsepreventionplan", plan.pk),
            "status": "active",
            "intent": "plan",
            "title": "Relapse-prevention plan",
            "subject": subject,
            "created": _instant(plan.created_at),
            "author": practitioner(course.therapist),
            "supportingInfo": [episode_ref],
            "note": [{"text": text} for text in notes],
        }
        if goal_refs:
            careplan["goal"] = goal_refs
        if course.target_diagnosis:
            careplan["addresses"] = [ref("Condition", condition_id)]
        out.add(careplan)
    return out.resources


def _measure(measure, subject, ref, practitioner, encounters) -> Iterable[dict]:
    spec = INSTRUMENTS[measure.instrument]
    panel = PANELS[measure.instrument]
    qr_status, observation_status = measure_status(measure)
    qr_id = resource_id("therapy.measure", measure.pk, "questionnaire-response")
    author = (
        subject
        if measure.entered_by_kind == EnteredBy.PATIENT or measure.entered_by is None
        else practitioner(measure.entered_by)
    )
    items = []
    for code, text, answer in zip(panel.items, spec.items, measure.answers, strict=True):
        if answer is None:
            continue  # unscored as the instrument allows (the Observation's note says so)
        items.append(
            {
                "linkId": code,
                "definition": f"{panel.system}#{code}",
                "text": text,
                "answer": [
                    {
                        "valueCoding": {
                            "system": panel.system,
                            "code": panel.answer_code(answer),
                            "display": spec.choices[answer][1],
                            "extension": [{"url": ORDINAL_VALUE, "valueDecimal": answer}],
                        }
                    }
                ],
            }
        )
    items.append(
        {
            "linkId": panel.total,
            "text": f"{spec.label} total score",
            "answer": [{"valueInteger": measure.total}],
        }
    )
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "questionnaire": panel.questionnaire,
        "status": qr_status,
        "subject": subject,
        "authored": _instant(measure.taken_at),
        "author": author,
        "source": subject if measure.entered_by_kind == EnteredBy.PATIENT else author,
        "item": items,
    }
    unscored = unscored_words(measure.instrument, measure.answers)
    observation = {
        "resourceType": "Observation",
        "id": resource_id("therapy.measure", measure.pk, "observation"),
        "status": observation_status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {
            "coding": [
                {"system": panel.system, "code": panel.total, "display": f"{spec.label} total"}
            ],
            "text": f"{spec.label} total score",
        },
        "subject": subject,
        "effectiveDateTime": _instant(measure.taken_at),
        "performer": [author],
        "valueInteger": measure.total,
        "interpretation": [{"text": measure.severity}],
        "note": [{"text": f"Severity: {measure.severity}"}]
        + ([{"text": unscored.capitalize() + "."}] if unscored else []),
        "derivedFrom": [ref("QuestionnaireResponse", qr_id)],
    }
    encounter_id = encounters.get(measure.session_id)
    if encounter_id is not None:
        response["encounter"] = ref("Encounter", encounter_id)
        observation["encounter"] = ref("Encounter", encounter_id)
    return [response, observation]


def validated(resource: dict) -> Resource:
    """The resource as its ``fhir.resources`` R4B model; ``pydantic.ValidationError`` when the
    model refuses it."""
    model = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource)


def course_bundle(course, *, now: datetime) -> Bundle:
    """The course as a Bundle of type collection, every entry with its ``urn:uuid`` fullUrl.
    The whole Bundle is validated (each resource by its own model)."""
    ref = References(bundle=True)
    entries = [
        {"fullUrl": f"urn:uuid:{resource['id']}", "resource": validated(resource)}
        for resource in course_resources(course, ref)
    ]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": _instant(now),
            "entry": entries,
        }
    )


def unresolved_references(resources: Iterable[dict], *, bundle: bool) -> list[str]:
    """The references among ``resources`` (dicts as exported) that name no resource among
    them: empty when every reference resolves."""
    resources = list(resources)
    known = {
        f"urn:uuid:{r['id']}" if bundle else f"{r['resourceType']}/{r['id']}" for r in resources
    }
    missing = []

    def walk(value) -> None:
        if isinstance(value, dict):
            reference = value.get("reference")
            if isinstance(reference, str) and reference not in known:
                missing.append(reference)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for resource in resources:
        walk(resource)
    return missing
