"""What a therapist's patients did in the portal since the therapist last looked: homework
they closed, questionnaires they filled in and their answers to a shared formulation. Read for the therapist's home (caseload),
below both entry points so that neither imports the other."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent
from patients.models import Patient
from phases.models import FormulationAnswer

from .models import Assignment, AssignmentStatus, EnteredBy, Measure

# With no "last looked" time yet, the therapist's home shows this much portal activity.
ACTIVITY_DEFAULT_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class PortalActivity:
    at: datetime
    kind: str  # "homework", "self_report" or "formulation"
    patient: Patient
    assignment: Assignment | None = None
    measure: Measure | None = None
    formulation_answer: FormulationAnswer | None = None

    @property
    def risk_flag(self) -> bool:
        return self.measure is not None and self.measure.risk_flag


# What the home's panel (``caseload/_home_extra_portal.html``) and its audit read of each
# row's patient: through the course, a wide row of which nothing else is shown.
_PATIENT_COLUMNS = (
    "course__clinic_id",
    "course__patient",
    "course__patient__clinic_id",
    "course__patient__first_name",
    "course__patient__last_name",
)


@functools.cache
def _bases() -> tuple[QuerySet, QuerySet, QuerySet]:
    """The three reads without the therapist, the clinic and the time: built once per
    process and only ever chained from (``.filter()`` returns a copy), as a generic view's
    ``queryset`` is; building them anew took Django about as long as compiling them. Each
    reads the columns the panel shows."""
    measures = (
        Measure.objects.filter(entered_by_kind=EnteredBy.PATIENT, superseded_at__isnull=True)
        .select_related("course__patient")
        .only(
            "clinic_id",
            "course_id",
            "instrument",
            "total",
            "severity",
            "risk_flag",
            "created_at",
            *_PATIENT_COLUMNS,
        )
        .order_by("-created_at")
    )
    assignments = (
        Assignment.objects.filter(status__in=[AssignmentStatus.DONE, AssignmentStatus.NOT_DONE])
        .select_related("course__patient")
        .only(
            "clinic_id",
            "course_id",
            "title",
            "status",
            "reflection",
            "completed_at",
            "updated_at",
            *_PATIENT_COLUMNS,
        )
        .order_by("-completed_at")
    )
    answers = (
        FormulationAnswer.objects.select_related("course__patient")
        .only("clinic_id", "course_id", "answer", "comment", "at", *_PATIENT_COLUMNS)
        .order_by("-at")
    )
    return measures, assignments, answers


def portal_activity_since(therapist, since: datetime | None = None) -> list[PortalActivity]:
    """Homework the therapist's patients closed, questionnaires they filled in and answers
    they gave to a shared formulation through the portal since the therapist last looked
    (``caseload_seen_at``), newest first. Three queries."""
    if therapist.clinic_id is None:
        return []
    since = since or therapist.caseload_seen_at or timezone.now() - ACTIVITY_DEFAULT_WINDOW
    clinic_id = therapist.clinic_id
    theirs = {"clinic_id": clinic_id, "course__patient__primary_therapist_id": therapist.pk}
    measures, assignments, answers = _bases()
    measures = measures.filter(**theirs, created_at__gt=since)[:50]
    # Homework closed by the patient (not by staff in a session): the portal's audit events
    # name it. Asked per assignment of this therapist's patients, so a busy clinic's other
    # activity can never push it out of the list.
    closed_in_portal = AuditEvent.objects.filter(
        clinic_id=clinic_id,
        object_type=Assignment._meta.label_lower,
        object_id=OuterRef("pk"),
        action=AuditAction.PORTAL_ACTION,
        actor_kind="patient",
        at__gt=since,
    )
    assignments = assignments.filter(**theirs).filter(Exists(closed_in_portal))[:50]
    answers = answers.filter(**theirs, at__gt=since)[:50]
    items = (
        [
            PortalActivity(at=m.created_at, kind="self_report", patient=m.course.patient, measure=m)
            for m in measures
        ]
        + [
            PortalActivity(
                at=a.at, kind="formulation", patient=a.course.patient, formulation_answer=a
            )
            for a in answers
        ]
        + [
            PortalActivity(
                at=a.completed_at or a.updated_at,
                kind="homework",
                patient=a.course.patient,
                assignment=a,
            )
            for a in assignments
        ]
    )
    return sorted(items, key=lambda item: item.at, reverse=True)
