"""Reads for the patient pages. Every function takes what the access helpers already scoped.

``patients`` sits below ``phases``: course figures are read through the reverse relations
(``courses``, ``courses__problem_areas``) by name, never by importing the higher app.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent

from .access import patients_visible_to
from .circle import CirclePerson
from .models import LifeEvent, Patient, PatientStatus, Relationship, RelationshipRevision

ACTIVE_COURSE = "active"


def _course_model():
    return Patient._meta.get_field("courses").related_model


def phase_choices() -> list[tuple[str, str]]:
    return list(_course_model()._meta.get_field("phase").choices)


def problem_area_choices() -> list[tuple[str, str]]:
    problem_area = _course_model()._meta.get_field("problem_areas").related_model
    return list(problem_area._meta.get_field("kind").choices)


def patient_list(
    *, user, search: str = "", status: str = "", phase: str = "", problem_area: str = ""
) -> QuerySet[Patient]:
    """The patients ``user`` may see, with the phase of their active course (one join: at
    most one active course per patient). Without a status filter archived patients are
    left out."""
    patients = (
        patients_visible_to(user)
        .select_related("primary_therapist")
        .annotate(
            active_course=FilteredRelation("courses", condition=Q(courses__status=ACTIVE_COURSE)),
        )
        .annotate(
            current_phase=F("active_course__phase"),
            active_course_id=F("active_course__id"),
        )
    )
    for term in search.split():
        patients = patients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(record_number__icontains=term)
        )
    if status:
        patients = patients.filter(status=status)
    else:
        patients = patients.exclude(status=PatientStatus.ARCHIVED)
    if phase:
        patients = patients.filter(current_phase=phase)
    if problem_area:
        with_area = Patient.objects.filter(
            courses__status=ACTIVE_COURSE,
            courses__problem_areas__kind=problem_area,
            courses__problem_areas__removed_at__isnull=True,
        ).values("pk")
        patients = patients.filter(pk__in=with_area)
    return patients.order_by("last_name", "first_name", "id")


def active_relationships(patient: Patient) -> QuerySet[Relationship]:
    return Relationship.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, removed_at__isnull=True
    )


def patient_page(patient: Patient) -> dict:
    """Everything the patient page shows, in a fixed number of queries."""
    relationships = list(active_relationships(patient))
    life_events = list(
        LifeEvent.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, removed_at__isnull=True
        ).select_related("relationship")
    )
    courses = list(
        patient.courses.filter(clinic_id=patient.clinic_id)
        .select_related("therapist")
        .annotate(
            # Kept by the sessions layer as attendance is recorded (sessions.attendance): the
            # only join left is the problem areas', so they are counted without DISTINCT.
            attended_sessions=F("sessions_attended"),
            problem_area_count=Count(
                "problem_areas", filter=Q(problem_areas__removed_at__isnull=True)
            ),
        )
        .order_by("-start_date", "-id")
    )
    active_course = next((c for c in courses if c.status == ACTIVE_COURSE), None)
    return {
        "relationships": relationships,
        "circle_people": [CirclePerson.from_relationship(r) for r in relationships],
        "life_events": life_events,
        "courses": courses,
        "active_course": active_course,
    }


def circle_at(patient: Patient, moment: datetime) -> list[CirclePerson]:
    """The circle as it stood at ``moment``: the latest revision of each person up to then,
    leaving out people removed by then."""
    latest: dict[int, RelationshipRevision] = {}
    revisions = RelationshipRevision.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, recorded_at__lte=moment
    ).order_by("recorded_at", "id")
    for revision in revisions:
        latest[revision.relationship_id] = revision
    return [CirclePerson.from_revision(r) for r in latest.values() if not r.removed]


@dataclass
class CircleSnapshot:
    label: str
    moment: datetime
    people: list[CirclePerson]


def circle_snapshots(patient: Patient, course) -> list[CircleSnapshot]:
    """The circle at the course's start, when the inventory was agreed (leaving social
    assessment), and at the course's end (or now while it runs)."""
    moments: list[tuple[str, datetime]] = [("At the start of the course", course.created_at)]
    inventory_agreed = (
        course.transitions.filter(from_phase="social", kind="forward").order_by("at").first()
    )
    if inventory_agreed is not None:
        moments.append(("When social assessment ended", inventory_agreed.at))
    if course.ended_at is not None:
        moments.append(("At the end of the course", course.ended_at))
    else:
        moments.append(("Now", timezone.now()))
    return [CircleSnapshot(label, at, circle_at(patient, at)) for label, at in moments]


def patient_history(patient: Patient, *, include_views: bool = False) -> QuerySet[AuditEvent]:
    """The patient's audit trail: who changed what, when (and who looked, on request)."""
    events = AuditEvent.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
    if not include_views:
        events = events.exclude(action=AuditAction.VIEW)
    return events.select_related("actor").order_by("-at", "-id")
