"""Reads for the reassignment page: a therapist's patients, and what moving some or all of
them to another therapist would do (the preview the admin confirms)."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from patients.models import Patient, PatientStatus
from phases.models import CourseStatus, TreatmentCourse
from sessions.models import SessionStatus, TherapySession
from sessions.services import calendar_clashes_by_session


def patients_of(clinic_id: int, therapist_id: int) -> QuerySet[Patient]:
    """The patients still with ``therapist_id`` (not archived), each with ``active_courses``
    (their active course, or none)."""
    active_courses = TreatmentCourse.objects.filter(
        clinic_id=clinic_id, status=CourseStatus.ACTIVE
    ).select_related("therapist")
    return (
        Patient.objects.filter(clinic_id=clinic_id, primary_therapist_id=therapist_id)
        .exclude(status=PatientStatus.ARCHIVED)
        .prefetch_related(Prefetch("courses", queryset=active_courses, to_attr="active_courses"))
        .order_by("last_name", "first_name", "pk")
    )


@dataclass
class SessionMove:
    session: TherapySession
    clashes: list[str]


@dataclass
class PatientMove:
    """One patient in a preview: their active course (if any) and its future sessions, each
    with what it clashes with in the new therapist's calendar."""

    patient: Patient
    course: TreatmentCourse | None
    sessions: list[SessionMove] = field(default_factory=list)

    @property
    def clashes(self) -> list[str]:
        return [clash for move in self.sessions for clash in move.clashes]

    @property
    def movable(self) -> bool:
        # A reassignment with a clash is refused (caseload.services.course_reassign).
        return not self.clashes


@dataclass
class ReassignmentPreview:
    from_therapist: object
    to_therapist: object
    patients: list[PatientMove]

    @property
    def movable(self) -> list[PatientMove]:
        return [move for move in self.patients if move.movable]

    @property
    def skipped(self) -> list[PatientMove]:
        return [move for move in self.patients if not move.movable]

    @property
    def sessions_moving(self) -> int:
        return sum(len(move.sessions) for move in self.movable)

    @property
    def clash_count(self) -> int:
        return sum(len(move.clashes) for move in self.patients)

    @property
    def summary(self) -> str:
        """ "6 patients, 14 future sessions move; 1 clash"."""
        patients, sessions = len(self.movable), self.sessions_moving
        text = (
            f"{patients} patient{'s' if patients != 1 else ''}, {sessions} future "
            f"session{'s' if sessions != 1 else ''} move"
        )
        clashes = self.clash_count
        return f"{text}; {clashes} clash{'es' if clashes != 1 else ''}" if clashes else text


def reassignment_preview(
    *, clinic, from_therapist, to_therapist, patient_ids: list[int] | None = None
) -> ReassignmentPreview:
    """What moving ``from_therapist``'s patients (those of ``patient_ids``, or all) to
    ``to_therapist`` would move: their future scheduled sessions, and for each the sessions
    already in the new therapist's calendar at that time. Read without locks, in four
    queries whatever the caseload; the move itself checks again
    (``caseload.services.caseload_reassign``)."""
    patients = patients_of(clinic.pk, from_therapist.pk)
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
    moves = [
        PatientMove(patient=patient, course=next(iter(patient.active_courses), None))
        for patient in patients
    ]
    by_course = {move.course.pk: move for move in moves if move.course is not None}
    sessions = list(
        TherapySession.objects.filter(
            clinic_id=clinic.pk,
            course_id__in=list(by_course),
            status=SessionStatus.SCHEDULED,
            scheduled_start__gte=timezone.now(),
        ).order_by("scheduled_start", "pk")
    )
    clashes = calendar_clashes_by_session(therapist=to_therapist, sessions=sessions, tz=clinic.tz)
    for session in sessions:
        by_course[session.course_id].sessions.append(
            SessionMove(session=session, clashes=clashes.get(session.pk, []))
        )
    return ReassignmentPreview(
        from_therapist=from_therapist, to_therapist=to_therapist, patients=moves
    )
