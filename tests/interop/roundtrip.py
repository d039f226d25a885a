"""Compare exported FHIR resources (parsed back by their ``fhir.resources`` R4B models) with the
course's rows. The expected codes are written out here, not read from the exporter, so that a
change of mapping shows."""

from datetime import datetime, timedelta

from fhir.resources.R4B import get_fhir_model_class

from interop.fhir import resource_id

LOINC = "http://loinc.org"
LOINC_TOTALS = {"phq9": "44261-6", "gad7": "70274-6"}
LOINC_PANELS = {"phq9": "44249-1", "gad7": "69737-5"}
ANSWER_SCORES = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}
# The WSAS has no LOINC codes: the project's own system, its answers coded by their score.
WSAS_SYSTEM = "urn:x-ipt-clinic:code-system:wsas"
WSAS_ITEMS = ("item-1", "item-2", "item-3", "item-4", "item-5")
TOTALS = {
    **{code: (LOINC, total) for code, total in LOINC_TOTALS.items()},
    "wsas": (WSAS_SYSTEM, "total"),
}
QUESTIONNAIRES = {
    **{code: f"{LOINC}/q/{panel}" for code, panel in LOINC_PANELS.items()},
    "wsas": f"{WSAS_SYSTEM}:questionnaire",
}


def _answers(instrument: str, response) -> list:
    """The item answers of ``response`` by score, as stored: an item missing from it (the
    WSAS work item left unscored) is None."""
    coded = [item for item in response.item if item.answer[0].valueCoding is not None]
    if instrument != "wsas":
        return [ANSWER_SCORES[item.answer[0].valueCoding.code] for item in coded]
    by_item = {}
    for item in coded:
        coding = item.answer[0].valueCoding
        assert coding.system == WSAS_SYSTEM
        assert coding.extension[0].valueDecimal == int(coding.code)
        by_item[item.linkId] = int(coding.code)
    assert set(by_item) <= set(WSAS_ITEMS)
    return [by_item.get(link_id) for link_id in WSAS_ITEMS]


GOALS = {
    ("active", "in-progress"): "open",
    ("completed", "achieved"): "achieved",
    ("completed", "improving"): "partly",
    ("completed", "not-achieved"): "not_met",
    ("cancelled", None): "dropped",
}
EPISODES = {"active": "active", "finished": "completed", "cancelled": "dropped_out"}


def parse(resource: dict):
    """The resource parsed back by its own model (raises when the model refuses it)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _same_instant(exported: datetime, stored: datetime) -> bool:
    return exported == stored and exported.utcoffset() is not None


def compare_course(course, resources: list[dict]) -> None:
    """Assert that ``resources`` (one course's, as exported) say what the database says."""
    from phases.models import Goal
    from sessions.models import Measure, SessionNote, TherapySession

    by_id = {(r["resourceType"], r["id"]): parse(r) for r in resources}

    def get(kind, rid):
        assert (kind, rid) in by_id, f"{kind} {rid} not exported"
        return by_id[(kind, rid)]

    patient = get("Patient", resource_id("patients.patient", course.patient_id))
    assert [i.value for i in patient.identifier] == [course.patient.record_number]
    system = patient.identifier[0].system
    assert course.clinic.slug in system
    assert not any(word in system.lower() for word in ("ipt", "therap", "psych", "depress"))

    episode = get("EpisodeOfCare", resource_id("phases.treatmentcourse", course.pk))
    assert EPISODES[episode.status] == course.status
    assert episode.period.start.isoformat() == course.start_date.isoformat()

    held = TherapySession.objects.filter(course=course, status="attended")
    encounters = [r for (kind, _), r in by_id.items() if kind == "Encounter"]
    assert len(encounters) == held.count()
    for session in held:
        encounter = get("Encounter", resource_id("therapy.therapysession", session.pk))
        assert encounter.status == "finished"
        assert _same_instant(encounter.period.start, session.scheduled_start)
        assert encounter.period.end - encounter.period.start == timedelta(
            minutes=session.duration_minutes
        )
        note = SessionNote.objects.filter(session=session, signed_at__isnull=False).first()
        if note is not None:
            provenance = get(
                "Provenance", resource_id("therapy.sessionnote", note.pk, "provenance")
            )
            assert _same_instant(provenance.recorded, note.signed_at)
            assert provenance.agent[0].who.reference.endswith(
                resource_id("accounts.user", note.signed_by_id)
            )

    measures = Measure.objects.filter(course=course)
    for measure in measures:
        response = get(
            "QuestionnaireResponse",
            resource_id("therapy.measure", measure.pk, "questionnaire-response"),
        )
        observation = get("Observation", resource_id("therapy.measure", measure.pk, "observation"))
        assert response.questionnaire == QUESTIONNAIRES[measure.instrument]
        assert _answers(measure.instrument, response) == measure.answers
        system, total_code = TOTALS[measure.instrument]
        assert response.item[-1].linkId == total_code
        assert response.item[-1].answer[0].valueInteger == measure.total
        assert _same_instant(response.authored, measure.taken_at)
        assert [(c.system, c.code) for c in observation.code.coding] == [(system, total_code)]
        assert observation.valueInteger == measure.total
        assert _same_instant(observation.effectiveDateTime, measure.taken_at)
        assert observation.interpretation[0].text == measure.severity
        assert observation.derivedFrom[0].reference.endswith(response.id)
        if measure.superseded_at is not None:
            assert (response.status, observation.status) == ("entered-in-error",) * 2
        elif measure.corrects_id is not None:
            assert (response.status, observation.status) == ("amended", "amended")
        else:
            assert (response.status, observation.status) == ("completed", "final")
    exported = {kind for kind, _ in by_id}
    assert ("Observation" in exported) == measures.exists()

    goals = Goal.objects.filter(course=course, removed_at__isnull=True)
    assert len([1 for kind, _ in by_id if kind == "Goal"]) == goals.count()
    for goal in goals:
        exported_goal = get("Goal", resource_id("phases.goal", goal.pk))
        achievement = (
            exported_goal.achievementStatus.coding[0].code
            if exported_goal.achievementStatus
            else None
        )
        assert GOALS[(exported_goal.lifecycleStatus, achievement)] == goal.status
        assert exported_goal.description.text == goal.text
