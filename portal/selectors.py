"""Reads for the portal (scoped to the one patient of the portal session). Every query
filters by clinic first. (What patients did in the portal, as their therapist sees it, is
read by ``sessions.portal_activity``.)

The portal reads only what a patient may see: their scheduled sessions (time, length, how),
their homework, their own self-reports and the relapse-prevention plan. Notes, the
formulation and staff-entered scores are never selected here.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from patients.models import Patient, PortalLink, Relationship
from patients.portal_links import portal_link_expiry
from phases.maintenance import checkin_now
from phases.models import CourseStatus, Phase, RelapsePreventionPlan, TreatmentCourse
from sessions.models import (
    Assignment,
    AssignmentStatus,
    EnteredBy,
    Measure,
    SessionStatus,
    TherapySession,
)
from sessions.scoring import instrument_language
from sessions.selectors import with_session_rank

# A maintenance course carries its plan over from the course before it: the patient keeps it.
PLAN_PHASES = (Phase.TERMINATION, Phase.COMPLETED, Phase.MAINTENANCE)


def portal_upcoming_sessions(patient: Patient) -> QuerySet[TherapySession]:
    """The patient's sessions ahead, each numbered as every page numbers it
    (``sessions.display.session_count``: "next: session 4 of 12")."""
    now = timezone.now()
    return with_session_rank(
        TherapySession.objects.filter(
            clinic_id=patient.clinic_id,
            course__patient_id=patient.pk,
            course__status=CourseStatus.ACTIVE,
            status=SessionStatus.SCHEDULED,
            scheduled_start__gte=now,
        )
        .select_related("course")
        .order_by("scheduled_start", "id"),
        now,
    )


def portal_get_upcoming_session(patient: Patient, session_id) -> TherapySession:
    try:
        return portal_upcoming_sessions(patient).get(pk=int(session_id))
    except (TherapySession.DoesNotExist, ValueError, TypeError):
        raise Http404("No such session.") from None


def _assignments(patient: Patient) -> QuerySet[Assignment]:
    return Assignment.objects.filter(clinic_id=patient.clinic_id, course__patient_id=patient.pk)


def portal_current_assignments(patient: Patient) -> QuerySet[Assignment]:
    return _assignments(patient).filter(status=AssignmentStatus.ASSIGNED).order_by("due_date", "id")


def portal_past_assignments(patient: Patient) -> QuerySet[Assignment]:
    return (
        _assignments(patient)
        .filter(status__in=[AssignmentStatus.DONE, AssignmentStatus.NOT_DONE])
        .order_by("-completed_at", "-id")
    )


def portal_get_assignment(patient: Patient, assignment_id) -> Assignment:
    try:
        return (
            _assignments(patient)
            .exclude(status=AssignmentStatus.WITHDRAWN)
            .get(pk=int(assignment_id))
        )
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such homework.") from None


def portal_active_course(patient: Patient) -> TreatmentCourse | None:
    return TreatmentCourse.objects.filter(
        clinic_id=patient.clinic_id, patient_id=patient.pk, status=CourseStatus.ACTIVE
    ).first()


def _plan_is_shown(course: TreatmentCourse | None) -> bool:
    """A plan is the patient's to read once its course is in termination or completed."""
    return course is not None and (
        course.phase in PLAN_PHASES or course.status == CourseStatus.COMPLETED
    )


@dataclass
class PortalHome:
    has_active_course: bool  # the questionnaires are offered while a course runs
    has_plan: bool  # as ``portal_relapse_plan`` would find one
    checkin_due: bool = False  # a maintenance course's monthly PHQ-9 is asked for


def portal_home(patient: Patient) -> PortalHome:
    """What the portal's home page needs to know about the patient's courses, in one query:
    whether one is active, and whether the latest has a plan the patient may read."""
    courses = list(
        TreatmentCourse.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
        .annotate(
            has_plan=Exists(
                RelapsePreventionPlan.objects.filter(
                    clinic_id=patient.clinic_id, course=OuterRef("pk")
                )
            )
        )
        .only("id", "status", "phase", "start_date", "course_type", "latest_phq9_at")
        .order_by("-start_date", "-id")
    )
    latest = courses[0] if courses else None
    tz = patient.clinic.tz
    today = timezone.localdate(timezone=tz)
    return PortalHome(
        has_active_course=any(c.status == CourseStatus.ACTIVE for c in courses),
        has_plan=_plan_is_shown(latest) and latest.has_plan,
        checkin_due=any(
            checkin.due
            for checkin in (checkin_now(c, today=today, tz=tz) for c in courses)
            if checkin is not None
        ),
    )


def portal_relapse_plan(patient: Patient) -> RelapsePreventionPlan | None:
    """The latest course's plan, once that course is in termination or completed."""
    course = (
        TreatmentCourse.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk)
        .order_by("-start_date", "-id")
        .first()
    )
    if not _plan_is_shown(course):
        return None
    return (
        RelapsePreventionPlan.objects.filter(clinic_id=patient.clinic_id, course=course)
        .prefetch_related(
            Prefetch(
                "supports",
                queryset=Relationship.objects.filter(removed_at__isnull=True).only(
                    "id", "name", "kind"
                ),
            )
        )
        .first()
    )


def portal_get_self_report(patient: Patient, measure_id) -> Measure:
    """One of the patient's own questionnaires (never a staff-entered one)."""
    try:
        return Measure.objects.get(
            clinic_id=patient.clinic_id,
            course__patient_id=patient.pk,
            entered_by_kind=EnteredBy.PATIENT,
            pk=int(measure_id),
        )
    except (Measure.DoesNotExist, ValueError, TypeError):
        raise Http404("No such questionnaire.") from None


# --- the therapist's side -------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    link: PortalLink
    expires: datetime | None
    state: str  # "live", "revoked", "expired"


def portal_links_for_patient(patient: Patient) -> list[LinkRow]:
    """Every link the patient has had, newest first, with when it stops working."""
    now = timezone.now()
    links = PortalLink.objects.filter(clinic_id=patient.clinic_id, patient=patient).select_related(
        "created_by"
    )
    latest_course = patient.courses.order_by("-start_date", "-id").first()
    rows = []
    for link in links:
        link.patient = patient
        expiry = portal_link_expiry(link, latest_course)
        if link.revoked_at is not None:
            state = "revoked"
        elif (expiry is not None and expiry <= now) or patient.status == "archived":
            state = "expired"
        else:
            state = "live"
        rows.append(LinkRow(link=link, expires=expiry, state=state))
    return rows


__all__ = [
    "LinkRow",
    "portal_active_course",
    "portal_current_assignments",
    "portal_get_assignment",
    "portal_get_self_report",
    "portal_get_upcoming_session",
    "portal_link_expiry",
    "portal_links_for_patient",
    "portal_past_assignments",
    "portal_home",
    "portal_relapse_plan",
    "portal_upcoming_sessions",
]


def questionnaire_language_note(instrument: str, language: str | None = None) -> str:
    """The note a patient reads above a questionnaire shown in English although their
    language (``language``, by default the active one: the patient's in the portal) is
    another, because no validated translation of it is kept (``sessions.scoring``); "" when
    the questionnaire is in their language."""
    language = language or translation.get_language() or "en"
    if instrument_language(instrument, language).split("-")[0] == language.split("-")[0]:
        return ""
    with translation.override(language):
        return _(
            "This questionnaire is shown in English because its questions have been tested "
            "in English, and we do not yet have a tested version in your language. If a "
            "question is not clear, answer as best you can and tell your therapist at your "
            "next appointment."
        )
