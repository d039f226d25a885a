"""Reading a finished bulk export back: every NDJSON line parsed by its resource's model."""

import json
from pathlib import Path

from django.conf import settings

from .roundtrip import parse


def read_export(job) -> dict[str, list[dict]]:
    """{resource type: its resources} from the job's files, each line parsed back (a line
    its model refuses fails here)."""
    directory = Path(settings.FHIR_EXPORT_DIR) / job.directory
    found = {}
    for path in sorted(directory.glob("*.ndjson")):
        lines = path.read_text(encoding="utf-8").splitlines()
        resources = [json.loads(line) for line in lines]
        for resource in resources:
            assert resource["resourceType"] == path.stem
            parse(resource)
        found[path.stem] = resources
    return found


def resources_of_course(found: dict[str, list[dict]], course) -> list[dict]:
    """The resources an NDJSON export holds for one course (by their references to its
    patient and its episode), with the patient and every practitioner."""
    from interop.fhir import resource_id

    patient = f"Patient/{resource_id('patients.patient', course.patient_id)}"
    episode = resource_id("phases.treatmentcourse", course.pk)
    session_ids = {
        resource_id("therapy.therapysession", pk)
        for pk in course.sessions.filter(status="attended").values_list("pk", flat=True)
    }
    measure_ids = {
        resource_id("therapy.measure", pk, part)
        for pk in course.measures.values_list("pk", flat=True)
        for part in ("questionnaire-response", "observation")
    }
    goal_ids = {resource_id("phases.goal", pk) for pk in course.goals.values_list("pk", flat=True)}
    mine = []
    for kind, resources in found.items():
        for resource in resources:
            text = json.dumps(resource)
            if kind in ("Patient", "Practitioner"):
                if kind == "Practitioner" or f"Patient/{resource['id']}" == patient:
                    mine.append(resource)
            elif (
                (
                    resource["id"] == episode
                    or resource["id"] in session_ids | measure_ids | goal_ids
                )
                or kind in ("Condition", "CarePlan")
                and patient in text
                and episode in text
                or kind == "Condition"
                and resource["id"] == resource_id("phases.treatmentcourse", course.pk, "condition")
                or kind == "Provenance"
                and any(sid in text for sid in session_ids)
            ):
                mine.append(resource)
    return mine
