"""factory_boy factories: the fixed cast and the clinical rows they work with."""

from datetime import date, timedelta

import factory
from django.db import transaction
from django.utils import timezone

from ipt_clinic.accounts.models import Clinic, Role, User
from patients.models import LifeEvent, Patient, Relationship
from phases.models import Goal, MidCourseReview, ProblemArea, TreatmentCourse
from sessions.attendance import refresh_attendance_figures, refresh_attendance_week
from sessions.models import Assignment, SessionStatus, TherapySession


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Sequence(lambda n: f"Alex{n}")
    last_name = "Morgan"
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.THERAPIST
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    primary_therapist = factory.SubFactory(UserFactory)
    clinic = factory.LazyAttribute(lambda p: p.primary_therapist.clinic)
    record_number = factory.Sequence(lambda n: f"R{n:06d}")
    first_name = factory.Sequence(lambda n: f"Sam{n}")
    last_name = "Taylor"
    date_of_birth = date(1985, 4, 1)
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    reminder_consent = True
    reminder_consent_at = factory.LazyFunction(timezone.now)


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.LazyAttribute(lambda r: r.patient.clinic)
    name = factory.Sequence(lambda n: f"Person {n}")
    kind = "friend"
    ring = 2


class LifeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LifeEvent

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.LazyAttribute(lambda e: e.patient.clinic)
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))
    description = "Moved house"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentCourse

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.LazyAttribute(lambda c: c.patient.clinic)
    therapist = factory.LazyAttribute(lambda c: c.patient.primary_therapist)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=14))
    phase_started_at = factory.LazyFunction(timezone.now)


class ProblemAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProblemArea

    course = factory.SubFactory(CourseFactory)
    clinic = factory.LazyAttribute(lambda a: a.course.clinic)
    kind = "role_transition"
    old_role = "Employed"
    new_role = "Retired"


class MidCourseReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MidCourseReview

    course = factory.SubFactory(CourseFactory)
    clinic = factory.LazyAttribute(lambda r: r.course.clinic)
    by = factory.LazyAttribute(lambda r: r.course.therapist)
    at = factory.LazyFunction(timezone.now)
    sessions_held = factory.LazyAttribute(lambda r: r.course.sessions_attended)
    planned_sessions = factory.LazyAttribute(lambda r: r.course.planned_sessions)
    goals_progress = "Both goals half-way."
    focus = "kept"
    focus_reason = "The dispute is still the work."
    plan = "Renegotiation, then the ending."


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    problem_area = factory.SubFactory(ProblemAreaFactory)
    course = factory.LazyAttribute(lambda g: g.problem_area.course)
    clinic = factory.LazyAttribute(lambda g: g.course.clinic)
    text = "Join one social activity each week"


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TherapySession

    course = factory.SubFactory(CourseFactory)
    clinic = factory.LazyAttribute(lambda s: s.course.clinic)
    therapist = factory.LazyAttribute(lambda s: s.course.therapist)
    scheduled_start = factory.Sequence(lambda n: timezone.now() + timedelta(days=1 + n, hours=1))
    duration_minutes = 50

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        session = super()._create(model_class, *args, **kwargs)
        # Made attended (or did-not-attend) here rather than through session_record_attendance:
        # keep the course's and the therapist's week's attendance figures as that service would.
        if session.status == SessionStatus.ATTENDED:
            refresh_attendance_figures([session.course_id])
        if session.status in (SessionStatus.ATTENDED, SessionStatus.NO_SHOW):
            with transaction.atomic():
                refresh_attendance_week(session, session.clinic.tz)
        return session


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    course = factory.SubFactory(CourseFactory)
    clinic = factory.LazyAttribute(lambda a: a.course.clinic)
    title = "Talk to your sister about Sunday"
    instructions = "Use the words we rehearsed; note how it went."
    kind = "communication"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=6))


def reset_sequences() -> None:
    """Number every factory's rows from the start again (tests/conftest.py does it before each
    test): what a test makes by default (a session's start some days ahead, a record number)
    then does not depend on how many rows the tests run before it made, in whatever order."""
    for value in list(globals().values()):
        if (
            isinstance(value, type)
            and issubclass(value, factory.django.DjangoModelFactory)
            and value.__module__ == __name__
        ):
            value.reset_sequence()
