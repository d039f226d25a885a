"""Reads for the patient pages. Every function takes what the access helpers already scoped.

``patients`` sits below ``phases``: course figures are read through the reverse relations
(``courses``, ``courses__problem_areas``) by name, never by importing the higher app.
"""

import functools
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent

from .access import patients_visible_to
from .circle import CirclePerson
from .header import header_annotations
from .models import LifeEvent, Patient, PatientStatus, Relationship, RelationshipRevision

ACTIVE_COURSE = "active"


def _course_model():
    return Patient._meta.get_field("courses").related_model


def phase_choices() -> list[tuple[str, str]]:
    """The phases an active course can be in (the list filters on the active course's phase:
    a completed course is no longer active, so "Completed" would always find nobody)."""
    return [
        (value, label)
        for value, label in _course_model()._meta.get_field("phase").choices
        if value != "completed"
    ]


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
        patients = patients.filter(pk__in=_with_problem_area(problem_area))
    return patients.order_by("last_name", "first_name", "id")


# --- the list's pages ------------------------------------------------------------------------


@dataclass
class ListPage:
    """One page of the patient list, in the list's order (last name, first name, id), found
    from the previous page's last row (or the next page's first) rather than counted:
    ``after`` / ``before`` are the opaque keys the page's links carry."""

    object_list: list[Patient]
    number: int
    after: str = ""  # the next page starts after this row
    before: str = ""  # the previous page ends before this one

    @property
    def has_next(self) -> bool:
        return bool(self.after)

    @property
    def has_previous(self) -> bool:
        return bool(self.before)


def _key(patient_key: tuple[str, str, int]) -> str:
    return urlsafe_b64encode(json.dumps(list(patient_key)).encode()).decode().rstrip("=")


def _unkey(text: str) -> tuple[str, str, int] | None:
    """The row a link's key names; None for anything else (then the first page is shown)."""
    try:
        last, first, pk = json.loads(urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    if not (isinstance(last, str) and isinstance(first, str) and isinstance(pk, int)):
        return None
    if not -(2**63) <= pk < 2**63:  # no row has it, and no database compares it
        return None
    return last, first, pk


def _beyond(key: tuple[str, str, int], *, forward: bool) -> Q:
    """The rows after ``key`` in the list's order (before it when not ``forward``); the
    first condition alone bounds the index scan by last name."""
    last, first, pk = key
    if forward:
        return Q(last_name__gte=last) & (
            Q(last_name__gt=last)
            | Q(last_name=last, first_name__gt=first)
            | Q(last_name=last, first_name=first, pk__gt=pk)
        )
    return Q(last_name__lte=last) & (
        Q(last_name__lt=last)
        | Q(last_name=last, first_name__lt=first)
        | Q(last_name=last, first_name=first, pk__lt=pk)
    )


def patient_list_page(
    *,
    user,
    search: str = "",
    status: str = "",
    phase: str = "",
    problem_area: str = "",
    after: str = "",
    before: str = "",
    number: int = 1,
    size: int = 25,
) -> ListPage:
    """A page of ``patient_list``, whatever the size of the clinic: no count, no offset.

    Each status shown (active and discharged without a status filter) is read on its own,
    in the list's order through the (clinic, status, last name) index, from the key of the
    row the page starts after (``after``) or ends before (``before``), ``size`` + 1 rows
    each; the first ``size`` of them merged are the page, then read in full (therapist,
    active course) by id. The merge is the database's (UNION ALL, so that its collation
    orders the names as its keys compare them) where it can order inside a union; SQLite
    cannot, and its binary collation is Python's order. ``number`` is the page's number as
    its link says (heading, audit); with neither key, a ``number`` above 1 is reached by
    skipping rows (an old link), the one case whose cost grows with the page."""
    filters = dict(search=search, status=status, phase=phase, problem_area=problem_area)
    forward_from = _unkey(after) if after else None
    backward_from = _unkey(before) if before and not forward_from else None
    skip = 0 if (forward_from or backward_from) else max(0, number - 1) * size
    order = ["last_name", "first_name", "id"]
    if backward_from:
        order = [f"-{name}" for name in order]
    branches = []
    for shown in [status] if status else [PatientStatus.ACTIVE, PatientStatus.DISCHARGED]:
        rows = _lean_list(user=user, **{**filters, "status": shown})
        if forward_from or backward_from:
            rows = rows.filter(_beyond(forward_from or backward_from, forward=not backward_from))
        branches.append(
            rows.order_by(*order).values_list("last_name", "first_name", "id")[: skip + size + 1]
        )
    if len(branches) == 1:
        keys = list(branches[0])[skip:]
    elif connection.features.supports_slicing_ordering_in_compound:
        keys = list(
            branches[0].union(*branches[1:], all=True).order_by(*order)[skip : skip + size + 1]
        )
    else:
        keys = sorted((key for branch in branches for key in branch), reverse=bool(backward_from))
        keys = keys[skip : skip + size + 1]
    more = len(keys) > size
    keys = keys[:size]
    if backward_from:
        if not more:
            # Back at the start: the first page, full.
            return patient_list_page(user=user, **filters, size=size)
        keys.reverse()
    by_id = {
        patient.pk: patient
        # With the header's annotations: the risk badge of each row (its open flags).
        for patient in patient_list(user=user, **filters)
        .annotate(**header_annotations("list_annotations"))
        .filter(pk__in=[k[2] for k in keys])
    }
    page = ListPage(
        object_list=[by_id[key[2]] for key in keys if key[2] in by_id],
        number=max(1, number),
    )
    if keys:
        has_next = True if backward_from else more
        has_previous = True if backward_from else bool(forward_from or skip)
        page.after = _key(keys[-1]) if has_next else ""
        page.before = _key(keys[0]) if has_previous else ""
    return page


def _lean_list(*, user, search: str, status: str, phase: str, problem_area: str) -> QuerySet:
    """The rows of ``patient_list`` for one status, without what only the page shows."""
    patients = patients_visible_to(user).filter(status=status)
    for term in search.split():
        patients = patients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(record_number__icontains=term)
        )
    if phase:
        patients = patients.filter(
            pk__in=_course_model()
            .objects.filter(status=ACTIVE_COURSE, phase=phase)
            .values("patient_id")
        )
    if problem_area:
        patients = patients.filter(pk__in=_with_problem_area(problem_area))
    return patients.order_by("last_name", "first_name", "id")


def _with_problem_area(problem_area: str) -> QuerySet:
    return Patient.objects.filter(
        courses__status=ACTIVE_COURSE,
        courses__problem_areas__kind=problem_area,
        courses__problem_areas__removed_at__isnull=True,
    ).values("pk")


def active_relationships(patient: Patient) -> QuerySet[Relationship]:
    return Relationship.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, removed_at__isnull=True
    )


# What the patient page (its course card, the header's course: ``patients.header``) reads of
# each of the patient's courses: a course is a wide row (its formulation, its contract's
# texts), and every column read is compiled on every request.
_PAGE_COURSE_COLUMNS = (
    "clinic_id",
    "patient_id",
    "phase",
    "status",
    "start_date",
    "ended_at",
    "planned_sessions",
    "sessions_attended",
)


@functools.cache
def _page_reads() -> tuple[QuerySet, QuerySet, QuerySet]:
    """The patient page's reads (the inventory, the timeline, the courses) but for whose
    they are: built once per process and only ever chained from (``.filter()`` returns a
    copy), as a generic view's ``queryset`` is; the courses with the columns the page shows."""
    people = Relationship.objects.all()
    events = LifeEvent.objects.filter(removed_at__isnull=True)
    courses = (
        _course_model()
        .objects.only(*_PAGE_COURSE_COLUMNS)
        .annotate(
            # The only join is the problem areas': they are counted without DISTINCT.
            problem_area_count=Count(
                "problem_areas", filter=Q(problem_areas__removed_at__isnull=True)
            ),
        )
        .order_by("-start_date", "-id")
    )
    return people, events, courses


def patient_page(patient: Patient) -> dict:
    """Everything the patient page shows, in a fixed number of queries: the inventory (every
    person, removed ones too, once: the current ones for the circle and its table, all of
    them for the names the timeline shows), the timeline and the courses."""
    people, events, courses = _page_reads()
    people = list(people.filter(clinic_id=patient.clinic_id, patient_id=patient.pk))
    relationships = [person for person in people if person.removed_at is None]
    by_id = {person.pk: person for person in people}
    life_events = list(events.filter(clinic_id=patient.clinic_id, patient_id=patient.pk))
    for event in life_events:
        if event.relationship_id in by_id:
            event.relationship = by_id[event.relationship_id]
    courses = list(courses.filter(clinic_id=patient.clinic_id, patient_id=patient.pk))
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
