"""The access matrix: one row per URL of the app, tried as the owner, another therapist of
the same clinic, another clinic's admin and an anonymous visitor.

Each area registers its rows in ``tests/matrix/rows_<area>.py`` as ``ROWS = {url_name: [Row, ...]}``.
``tests/test_access_matrix.py`` fails for any named URL in the URLconf that has no row.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone


@dataclass
class World:
    """The records the owner therapist (``owner``) may see, and the cast around them."""

    clinic: Any
    owner: Any
    other_therapist: Any
    clinic_admin: Any
    other_clinic_admin: Any
    patient: Any
    course: Any
    relationship: Any
    life_event: Any
    problem_area: Any
    goal: Any
    session: Any
    past_session: Any
    note: Any
    measure: Any
    assignment: Any
    portal_link: Any
    portal_token: str
    notification: Any
    extra: dict = field(default_factory=dict)


# Who a row expects to be let in:
#   "patient" - a patient's record: the owner therapist and the clinic admin; others 404, anonymous to login
#   "admin"   - a clinic-admin page: the clinic admin only; therapists 404, anonymous to login
#   "staff"   - any logged-in staff member (their own data); anonymous to login
#   "public"  - anyone (login page, health probes)
#   "portal"  - the patient portal: staff sessions give nothing; checked in the portal's own tests
AUDIENCES = ("patient", "admin", "staff", "public", "portal")


def version_of(record) -> int:
    """The record's version as stored now, for an edit form's post (an earlier request of
    the same row may have saved it)."""
    return type(record).objects.values_list("version", flat=True).get(pk=record.pk)


@dataclass
class Row:
    kwargs: Callable[[World], dict] = lambda w: {}
    method: str = "get"
    data: Callable[[World], dict] = lambda w: {}
    audience: str = "patient"
    # For "patient" rows: may the clinic admin use it too (reads: yes; some writes: therapist only)?
    admin_allowed: bool = True
    query: str = ""
    # For "admin" rows that name a member of the world's clinic (a reassignment's "from"):
    # another clinic's admin gets 404, as for a record of another clinic.
    names_staff: bool = False


def build_world() -> World:
    from notifications.models import Notification
    from patients.models import PortalLink
    from phases.models import Phase
    from sessions.models import Measure, SessionNote
    from tests.conftest import ROLE_ADMIN, ROLE_THERAPIST
    from tests.factories import (
        AssignmentFactory,
        ClinicFactory,
        CourseFactory,
        GoalFactory,
        LifeEventFactory,
        PatientFactory,
        ProblemAreaFactory,
        RelationshipFactory,
        SessionFactory,
        UserFactory,
    )

    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    other_clinic = ClinicFactory(name="Hillside Clinic", slug="hillside")
    owner = UserFactory(username="alice", clinic=clinic, role=ROLE_THERAPIST)
    other_therapist = UserFactory(username="bob", clinic=clinic, role=ROLE_THERAPIST)
    clinic_admin = UserFactory(username="carol", clinic=clinic, role=ROLE_ADMIN)
    other_clinic_admin = UserFactory(username="dave", clinic=other_clinic, role=ROLE_ADMIN)
    patient = PatientFactory(primary_therapist=owner)
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    relationship = RelationshipFactory(patient=patient)
    life_event = LifeEventFactory(patient=patient, relationship=relationship)
    problem_area = ProblemAreaFactory(course=course)
    goal = GoalFactory(problem_area=problem_area)
    session = SessionFactory(course=course)
    past_session = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=3),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    note = SessionNote.objects.create(
        clinic=clinic,
        session=past_session,
        phase=Phase.PROBLEM_SOLVING,
        narrative="Discussed the argument with her sister.",
    )
    measure = Measure.objects.create(
        clinic=clinic,
        course=course,
        session=past_session,
        instrument="phq9",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 1],
        total=9,
        severity="mild",
        risk_flag=True,
        taken_at=timezone.now() - timedelta(days=3),
        entered_by=owner,
    )
    assignment = AssignmentFactory(course=course, session=past_session)
    import hashlib
    import secrets

    token = secrets.token_urlsafe(32)
    portal_link = PortalLink.objects.create(
        clinic=clinic,
        patient=patient,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_by=owner,
    )
    notification = Notification.objects.create(
        clinic=clinic,
        patient=patient,
        kind="session_reminder",
        channel="email",
        recipient=patient.email,
        about_type="session",
        about_id=session.pk,
        due_at=timezone.now(),
        status="failed",
        dedupe_key=f"session:{session.pk}:session_reminder:email:test",
    )
    return World(
        clinic=clinic,
        owner=owner,
        other_therapist=other_therapist,
        clinic_admin=clinic_admin,
        other_clinic_admin=other_clinic_admin,
        patient=patient,
        course=course,
        relationship=relationship,
        life_event=life_event,
        problem_area=problem_area,
        goal=goal,
        session=session,
        past_session=past_session,
        note=note,
        measure=measure,
        assignment=assignment,
        portal_link=portal_link,
        portal_token=token,
        notification=notification,
    )
