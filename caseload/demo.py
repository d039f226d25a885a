"""The demo clinics: fictional staff and patients for `make run`, the browser journeys and the
benchmark (``manage.py seed_demo``).

Rows are written straight through the ORM with ``bulk_create`` (no services, no per-row audit):
the same builder makes the hand-written stories of the demo and the thousands of generated
patients of ``--scale N``. Every patient has a fixed record number and its own seeded
``random.Random``, so a second run finds every patient already there and adds nothing, and a
larger scale only adds the patients that are missing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from ipt_clinic.accounts.models import Clinic, Role, User
from ipt_clinic.audit.models import AuditAction, AuditEvent
from patients.models import (
    Channel,
    LifeEvent,
    Patient,
    PatientStatus,
    Relationship,
    RelationshipRevision,
)
from phases.models import (
    CourseStatus,
    Goal,
    GoalStatus,
    Phase,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TransitionKind,
    TreatmentCourse,
)
from sessions.attendance import rebuild_attendance_weeks
from sessions.models import (
    Assignment,
    AssignmentStatus,
    AttendanceWeek,
    EnteredBy,
    GoalReview,
    Measure,
    NoteRevision,
    Notification,
    NotificationStatus,
    SessionNote,
    SessionStatus,
    Technique,
    TherapySession,
)
from sessions.scoring import score

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the published password of fictional demo staff  # nosec B105
BATCH_SIZE = 2000
CHUNK_PATIENTS = 400  # generated patients written per transaction
CASELOAD = 25  # generated patients per generated therapist

# Outcomes a course can have reached: the four phases, or ended.
OUTCOMES = ("initial", "social", "problem_solving", "termination", "completed", "dropped_out")
OUTCOME_WEIGHTS = (14, 14, 34, 16, 14, 8)


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str = Role.THERAPIST


@dataclass(frozen=True)
class ClinicSpec:
    slug: str
    name: str
    prefix: str  # record numbers: NG-0001 (hand-written), NG-B000001 (generated)
    staff_prefix: str  # generated therapists: north.t0001
    time_zone: str
    phone: str
    staff: tuple[StaffSpec, ...]
    per_scale: int = 0  # generated patients per unit of --scale
    fixed_when_scaled: int = 0  # generated patients at any --scale >= 1
    only_when_scaled: bool = False

    def generated_target(self, scale: int) -> int:
        if scale <= 0:
            return 0
        return self.per_scale * scale + self.fixed_when_scaled


NORTHGATE = ClinicSpec(
    slug="demo-northgate",
    name="Northgate IPT Service",
    prefix="NG",
    staff_prefix="north",
    time_zone="Europe/London",
    phone="0161 496 0000",
    staff=(
        StaffSpec("north.admin", "Nadia", "Okafor", Role.CLINIC_ADMIN),
        StaffSpec("north.anna", "Anna", "Whitfield"),
        StaffSpec("north.ben", "Ben", "Adeyemi"),
    ),
    per_scale=50,  # about 5,000 patients at --scale 100: the large clinic of the dashboard bench
)
SOUTHBANK = ClinicSpec(
    slug="demo-southbank",
    name="Southbank Wellbeing Clinic",
    prefix="SB",
    staff_prefix="south",
    time_zone="Europe/London",
    phone="0117 496 0000",
    staff=(
        StaffSpec("south.admin", "Sofia", "Marsh", Role.CLINIC_ADMIN),
        StaffSpec("south.chloe", "Chloe", "Brennan"),
        StaffSpec("south.dev", "Dev", "Raman"),
    ),
    per_scale=150,
)
LAKESIDE = ClinicSpec(
    slug="demo-lakeside",
    name="Lakeside Community Therapy",
    prefix="LK",
    staff_prefix="lake",
    time_zone="Europe/London",
    phone="01539 496 000",
    staff=(
        StaffSpec("lake.admin", "Leah", "Fenwick", Role.CLINIC_ADMIN),
        StaffSpec("lake.omar", "Omar", "Haddad"),
        StaffSpec("lake.ruth", "Ruth", "Ellison"),
    ),
    fixed_when_scaled=50,  # about 50 patients at every scale: the small clinic of the dashboard bench
    only_when_scaled=True,
)
CLINICS = (NORTHGATE, SOUTHBANK, LAKESIDE)


@dataclass(frozen=True)
class Story:
    """One hand-written demo patient."""

    clinic: ClinicSpec
    therapist: str
    number: int
    first_name: str
    last_name: str
    outcome: str
    area: str
    open_risk: bool = False
    unsigned_old_note: bool = False
    no_show: bool = False
    failed_reminder: bool = False
    portal_demo: bool = False


STORIES = (
    Story(NORTHGATE, "north.anna", 1, "Maya", "Thornton", "termination", "role_dispute", portal_demo=True),
    Story(NORTHGATE, "north.anna", 2, "Jonah", "Pryce", "problem_solving", "grief", open_risk=True),
    Story(NORTHGATE, "north.anna", 3, "Priya", "Lakhani", "problem_solving", "role_transition", no_show=True),
    Story(NORTHGATE, "north.anna", 4, "Oliver", "Stanton", "social", "interpersonal_deficits"),
    Story(NORTHGATE, "north.anna", 5, "Grace", "Ndlovu", "initial", "role_transition"),
    Story(NORTHGATE, "north.anna", 6, "Harriet", "Cole", "completed", "role_dispute"),
    Story(NORTHGATE, "north.ben", 7, "Samir", "Qureshi", "problem_solving", "role_dispute", unsigned_old_note=True),
    Story(NORTHGATE, "north.ben", 8, "Elena", "Rossi", "initial", "grief"),
    Story(NORTHGATE, "north.ben", 9, "Declan", "Murphy", "social", "role_transition"),
    Story(NORTHGATE, "north.ben", 10, "Fatima", "Begum", "termination", "grief", failed_reminder=True),
    Story(NORTHGATE, "north.ben", 11, "Lewis", "Carter", "dropped_out", "interpersonal_deficits"),
    Story(NORTHGATE, "north.ben", 12, "Imogen", "Price", "completed", "role_transition"),
    Story(SOUTHBANK, "south.chloe", 1, "Tomasz", "Nowak", "problem_solving", "role_transition"),
    Story(SOUTHBANK, "south.chloe", 2, "Aisha", "Bello", "initial", "role_dispute"),
    Story(SOUTHBANK, "south.chloe", 3, "Rory", "Fitzgerald", "social", "grief"),
    Story(SOUTHBANK, "south.chloe", 4, "Mei", "Chen", "termination", "role_dispute"),
    Story(SOUTHBANK, "south.chloe", 5, "Bethan", "Lloyd", "completed", "interpersonal_deficits"),
    Story(SOUTHBANK, "south.chloe", 6, "Kwame", "Asante", "dropped_out", "role_dispute", no_show=True),
    Story(SOUTHBANK, "south.dev", 7, "Niamh", "Gallagher", "problem_solving", "grief"),
    Story(SOUTHBANK, "south.dev", 8, "Arjun", "Mehta", "problem_solving", "role_dispute", no_show=True),
    Story(SOUTHBANK, "south.dev", 9, "Zofia", "Kowalska", "initial", "interpersonal_deficits"),
    Story(SOUTHBANK, "south.dev", 10, "Callum", "Reid", "social", "role_transition"),
    Story(SOUTHBANK, "south.dev", 11, "Hannah", "Osei", "termination", "role_transition"),
    Story(SOUTHBANK, "south.dev", 12, "Luca", "Bianchi", "completed", "grief"),
)  # fmt: skip

FIRST_NAMES = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Willow",
    "Freya",
    "Florence",
    "Emily",
    "Ella",
    "Poppy",
    "Evie",
    "Elsie",
    "Charlotte",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Freddie",
    "Jack",
    "Charlie",
    "Theo",
    "Alfie",
    "Jacob",
    "Thomas",
    "Finley",
    "Arlo",
    "William",
    "Lucas",
    "Roman",
    "Tommy",
    "Isaac",
    "Teddy",
    "Alexander",
    "Luca",
    "Edward",
    "James",
    "Joshua",
    "Albie",
    "Elijah",
    "Max",
    "Mohammed",
    "Reggie",
    "Hugo",
    "Aaliyah",
    "Zara",
    "Nia",
    "Kofi",
    "Anjali",
    "Ravi",
    "Sunita",
    "Ewan",
    "Morag",
    "Siobhan",
    "Ciaran",
    "Dafydd",
    "Eira",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
]

# (kind, ring, is_support, typical names) of the people an inventory is drawn from.
PEOPLE = (
    ("partner", 1, True),
    ("parent", 1, True),
    ("sibling", 2, True),
    ("friend", 2, True),
    ("child", 1, True),
    ("colleague", 3, False),
    ("friend", 3, False),
    ("family", 2, False),
    ("neighbour", 3, False),
    ("ex_partner", 3, False),
)
CONTACT = ("Every day", "Several times a week", "Weekly", "Every few weeks", "Rarely")

LIFE_EVENTS = (
    ("Moved to a new city for work", -1),
    ("Argument at a family wedding", -2),
    ("Started a new job", 1),
    ("Made redundant", -2),
    ("Best friend moved abroad", -1),
    ("Birth of a first child", 1),
    ("Parent diagnosed with a serious illness", -2),
    ("Separated from partner", -2),
    ("Retired after 30 years", -1),
    ("Joined a walking group", 1),
    ("Went back to college", 1),
    ("Children left home", -1),
)

AREA_TEXT = {
    "grief": (
        "Low mood began after {name}'s death; mourning has stalled and {first} avoids reminders.",
        "Talk about {name} with one person who knew them",
        "Take up one activity that was given up after the loss",
    ),
    "role_dispute": (
        "Repeated, unresolved arguments with {name} about roles at home; each ends in silence.",
        "Say what {first} needs from {name} once a week without the talk becoming a row",
        "Agree one shared change with {name}",
    ),
    "role_transition": (
        "Symptoms started with the move into a new role; {first} mourns the old one and feels unskilled in the new.",
        "List what was good and bad about the old role and what the new one offers",
        "Build two new contacts in the new role",
    ),
    "interpersonal_deficits": (
        "Few close ties and long-standing sensitivity to rejection keep {first} isolated.",
        "Start one conversation each week with someone from the inventory",
        "Rehearse asking for help and try it once",
    ),
}

HOMEWORK = (
    ("communication", "Talk to {name} about one thing that matters", "Use the words we rehearsed; note how it went and how you felt."),
    ("role_play", "Practise the conversation with {name}", "Run through what you want to say twice before the session."),
    ("log", "Keep the mood and contact log", "Each evening: mood 0-10 and who you spoke to today."),
    ("activity", "Plan one shared activity", "Suggest something you both used to enjoy and note what happened."),
    ("reading", "Read the leaflet on depression as an illness", "Mark anything that sounds like you."),
)  # fmt: skip

REFLECTIONS = (
    "It went better than I expected; we talked for an hour.",
    "Hard to start, but I said what I wanted to say.",
    "I managed most evenings. Mood was lowest after calls with family.",
    "We went for a walk on Sunday and it felt like old times.",
)

SITUATIONS = (
    "Talked about the week; mood a little lighter after a visit from {name}.",
    "A tense exchange with {name} on Tuesday; we went through it line by line.",
    "Noticed the link between evenings alone and low mood.",
    "Tried the new way of asking for help; partly successful.",
)


@dataclass
class Pending:
    """The rows of one chunk of patients, written level by level so foreign keys resolve."""

    rows: dict[type[models.Model], list] = field(default_factory=lambda: defaultdict(list))
    # Notifications name what they are about by id: resolved after that row has its id.
    notifications: list[tuple[Notification, models.Model, datetime]] = field(default_factory=list)
    # The audit trail the story would have left (record views, portal use), named by id too.
    history: list[tuple[AuditEvent, models.Model, Patient]] = field(default_factory=list)

    def add(self, row: models.Model) -> models.Model:
        self.rows[type(row)].append(row)
        return row


WRITE_ORDER = (
    Patient,
    Relationship,
    TreatmentCourse,
    RelationshipRevision,
    LifeEvent,
    ProblemArea,
    PhaseTransition,
    Goal,
    TherapySession,
    SessionNote,
    NoteRevision,
    Measure,
    GoalReview,
    Assignment,
    RelapsePreventionPlan,
    RelapsePreventionPlan.supports.through,
)


def write(pending: Pending) -> None:
    """Insert the chunk: ``COPY`` on PostgreSQL (the scale-100 seed in minutes, not tens of
    minutes), ``bulk_create`` in batches elsewhere."""
    insert = _copy_rows if connection.vendor == "postgresql" else _bulk_create_rows
    for model in WRITE_ORDER:
        rows = pending.rows.get(model)
        if rows:
            insert(model, rows)
    for notification, about, intended in pending.notifications:
        notification.about_id = about.pk
        # The outbox's own key: about, kind, channel and the intended due time in UTC.
        stamp = intended.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        notification.dedupe_key = (
            f"{notification.about_type}:{about.pk}:{notification.kind}:"
            f"{notification.channel}:{stamp}"
        )
    if pending.notifications:
        insert(Notification, [n for n, *_ in pending.notifications])
    for event, target, patient in pending.history:
        event.object_id = target.pk
        event.patient_id = patient.pk
    if pending.history:
        insert(AuditEvent, [event for event, *_ in pending.history])


def _bulk_create_rows(model: type[models.Model], rows: list) -> None:
    model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def _copy_rows(model: type[models.Model], rows: list) -> None:
    """``COPY ... FROM STDIN`` with ids drawn from the table's own sequence first, so the rows
    written next can point at these (what ``bulk_create`` does with RETURNING, without its
    per-value preparation). Foreign keys are taken from the related objects set on each row."""
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = meta.concrete_fields
    now = timezone.now()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        relations = [(f.attname, f.name) for f in fields if f.is_relation]
        converters = []
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                converters.append((f.attname, lambda value: value or now))
            elif isinstance(f, models.JSONField):
                converters.append((f.attname, Jsonb))
            else:
                converters.append((f.attname, None))
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = row.__dict__
                cached = row._state.fields_cache
                for attname, name in relations:
                    related = cached.get(name)
                    if related is not None:
                        values[attname] = related.pk
                copy.write_row(
                    [convert(values[a]) if convert else values[a] for a, convert in converters]
                )


# --- staff and clinics -------------------------------------------------------------------


def ensure_clinic(spec: ClinicSpec) -> Clinic:
    clinic, _ = Clinic.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "time_zone": spec.time_zone,
            "phone": spec.phone,
            "sender_name": spec.name,
            "sender_email": f"appointments@{spec.slug}.example.org",
        },
    )
    return clinic


def ensure_staff(clinic: Clinic, specs: Iterable[StaffSpec], password_hash: str) -> dict:
    """Create the staff that are missing (one bulk insert); return all of them by username."""
    specs = list(specs)
    existing = {
        u.username: u for u in User.objects.filter(username__in=[s.username for s in specs])
    }
    missing = [
        User(
            username=s.username,
            email=f"{s.username}@example.org",
            first_name=s.first_name,
            last_name=s.last_name,
            clinic=clinic,
            role=s.role,
            password=password_hash,
            is_active=True,
        )
        for s in specs
        if s.username not in existing
    ]
    User.objects.bulk_create(missing, batch_size=BATCH_SIZE)
    existing.update({u.username: u for u in missing})
    return existing


def generated_therapists(spec: ClinicSpec, patients: int) -> list[StaffSpec]:
    staff = []
    for number in range(1, math.ceil(patients / CASELOAD) + 1):
        rng = random.Random(f"{spec.slug}:therapist:{number}")  # noqa: S311 - demo data, not secrets  # nosec B311
        staff.append(
            StaffSpec(
                f"{spec.staff_prefix}.t{number:04d}",
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
            )
        )
    return staff


# --- one patient's story -----------------------------------------------------------------


@dataclass
class PatientPlan:
    clinic: Clinic
    therapist: User
    record_number: str
    first_name: str
    last_name: str
    outcome: str
    area: str
    seed: str
    open_risk: bool = False
    unsigned_old_note: bool = False
    no_show: bool = False
    failed_reminder: bool = False
    generated: bool = True


def _answers(rng: random.Random, items: int, total: int, item9: int = 0) -> list[int]:
    """Item answers (0-3) adding up to ``total``; for the PHQ-9 the last item is ``item9``."""
    answers = [0] * items
    free = items - 1 if items == 9 else items
    if items == 9:
        answers[8] = item9
    remaining = max(0, min(total - (item9 if items == 9 else 0), 3 * free))
    while remaining:
        i = rng.randrange(free)
        if answers[i] < 3:
            answers[i] += 1
            remaining -= 1
    return answers


def _measure(pending, rng, plan, course, session, instrument, total, at, item9=0):
    answers = _answers(rng, 9 if instrument == "phq9" else 7, total, item9)
    total, severity = score(instrument, answers)
    return pending.add(
        Measure(
            clinic=plan.clinic,
            course=course,
            session=session,
            instrument=instrument,
            answers=answers,
            total=total,
            severity=severity,
            entered_by_kind=EnteredBy.STAFF,
            entered_by=plan.therapist,
            taken_at=at,
            created_at=at,
            risk_flag=instrument == "phq9" and item9 > 0,
        )
    )


def _history(pending, plan, patient, target, *, action, at, summary, by_patient=False):
    event = AuditEvent(
        at=at,
        clinic=plan.clinic,
        actor=None if by_patient else plan.therapist,
        actor_kind="patient" if by_patient else "staff",
        action=action,
        object_type=target._meta.label_lower,
        summary=summary,
    )
    pending.history.append((event, target, patient))


def _phase_lengths(rng: random.Random, planned: int) -> list[tuple[str, int]]:
    initial = rng.choice((2, 3))
    social = rng.choice((2, 3))
    termination = 3
    return [
        (Phase.INITIAL, initial),
        (Phase.SOCIAL, social),
        (Phase.PROBLEM_SOLVING, planned - initial - social - termination),
        (Phase.TERMINATION, termination),
    ]


def build_patient(pending: Pending, plan: PatientPlan, today: date, now: datetime) -> Patient:
    rng = random.Random(plan.seed)  # noqa: S311 - demo data, not secrets  # nosec B311
    clinic, therapist = plan.clinic, plan.therapist
    tz = ZoneInfo(clinic.time_zone)
    channel = rng.choices((Channel.EMAIL, Channel.SMS, Channel.NONE), (70, 20, 10))[0]
    email = f"{plan.first_name}.{plan.last_name}.{plan.record_number}".lower().replace("-", "")
    patient = pending.add(
        Patient(
            clinic=clinic,
            primary_therapist=therapist,
            record_number=plan.record_number,
            first_name=plan.first_name,
            last_name=plan.last_name,
            date_of_birth=date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            email=f"{email}@example.org",
            phone=f"+44 7700 900{rng.randint(0, 999):03d}",
            preferred_channel=channel,
            reminder_consent=channel != Channel.NONE,
        )
    )

    # The course's calendar: weekly slots (fortnightly in termination); a slot may be missed.
    planned = rng.choice((12, 14, 16))
    lengths = _phase_lengths(rng, planned)
    phase_of_attended = [phase for phase, n in lengths for _ in range(n)]
    outcome = plan.outcome
    if outcome in ("completed",):
        attended_target = planned
    elif outcome == "dropped_out":
        attended_target = lengths[0][1] + lengths[1][1] + rng.randint(1, 3)
    else:
        index = OUTCOMES.index(outcome)
        before = sum(n for _, n in lengths[:index])
        attended_target = before + rng.randint(1, max(1, lengths[index][1] - 1))
    slots: list[tuple[str, str]] = []  # (status, phase)
    attended = 0
    forced_no_show = plan.no_show
    while attended < attended_target:
        phase = phase_of_attended[attended]
        roll = rng.random()
        if forced_no_show and attended == attended_target - 1:
            forced_no_show = False  # the story's missed session, just before the latest one
            slots.append((SessionStatus.NO_SHOW, phase))
            continue
        if attended > 0 and roll < 0.07:
            slots.append((SessionStatus.NO_SHOW, phase))
            continue
        if attended > 0 and roll < 0.10:
            slots.append((SessionStatus.CANCELLED_PATIENT, phase))
            continue
        slots.append((SessionStatus.ATTENDED, phase))
        attended += 1
    if outcome == "dropped_out":
        slots += [(SessionStatus.NO_SHOW, phase_of_attended[attended])] * 2

    def gap(phase: str) -> int:
        return 14 if phase == Phase.TERMINATION else 7

    span = sum(gap(p) for _, p in slots[:-1])
    ended = outcome in ("completed", "dropped_out")
    if ended:
        last_day = today - timedelta(days=rng.randint(7, 200))
    else:
        last_day = today - timedelta(days=rng.randint(1, 6))
    first_day = last_day - timedelta(days=span)
    hour = rng.randint(9, 16)
    modality = rng.choices(("in_person", "video", "phone"), (60, 30, 10))[0]

    def at(day: date) -> datetime:
        return datetime.combine(day, time(hour, 0), tzinfo=tz)

    current_phase = (
        Phase.COMPLETED
        if outcome == "completed"
        else (phase_of_attended[attended - 1] if outcome == "dropped_out" else outcome)
    )
    course = pending.add(
        TreatmentCourse(
            clinic=clinic,
            patient=patient,
            therapist=therapist,
            status=(
                CourseStatus.COMPLETED
                if outcome == "completed"
                else CourseStatus.DROPPED_OUT
                if outcome == "dropped_out"
                else CourseStatus.ACTIVE
            ),
            phase=current_phase,
            start_date=first_day,
            planned_sessions=planned,
            session_minutes=50,
            contract_agreed_on=first_day + timedelta(days=7 * (lengths[0][1] - 1)),
            target_diagnosis=rng.choice(
                (
                    "Major depressive disorder, single episode",
                    "Major depressive disorder, recurrent",
                )
            ),
            sick_role_note=(
                f"{plan.first_name} agreed to see depression as an illness for now: "
                "lighter duties at home, no blame for what cannot be done yet."
            ),
        )
    )
    patient.reminder_consent_at = at(first_day) if patient.reminder_consent else None
    # Creation times as the story had them (kept by COPY on PostgreSQL; bulk_create stamps now).
    patient.created_at = at(first_day) - timedelta(days=rng.randint(3, 20))
    course.created_at = at(first_day) - timedelta(days=1)

    # The interpersonal inventory: 3-6 people over the rings.
    count = rng.randint(3, 6)
    closest = PEOPLE[0] if rng.random() < 0.6 else PEOPLE[1]
    kinds = [closest, *rng.sample([p for p in PEOPLE if p != closest], count - 1)]
    if plan.area == "grief":
        kinds[-1] = ("deceased", 2, False)
    people = []
    for kind, ring, support in kinds:
        name = rng.choice(("Mum", "Dad")) if kind == "parent" else rng.choice(FIRST_NAMES)
        person = pending.add(
            Relationship(
                clinic=clinic,
                patient=patient,
                name=name,
                kind=kind,
                ring=ring,
                contact_frequency=rng.choice(CONTACT) if kind != "deceased" else "",
                satisfying=rng.choice(("Easy company", "Always there in a crisis", "Shared history", "Makes me laugh")),
                unsatisfying=rng.choice(("Criticises my choices", "We only talk about practical things", "Hard to reach lately", "")),
                patient_expectations="To listen without fixing things",
                their_expectations="To keep in touch more",
                expectations_met=rng.choice(("yes", "partly", "no", "unknown")),
                wants_to_change=rng.choice(("See them more often", "Argue less", "Say what I need", "")),
                changed_near_onset=rng.random() < 0.3,
                is_support=support,
            )
        )  # fmt: skip
        people.append(person)
    inventory_day = first_day + timedelta(days=7 * lengths[0][1])
    reached_social = outcome not in ("initial",)
    for person in people:
        pending.add(
            RelationshipRevision(
                clinic=clinic,
                patient=patient,
                relationship=person,
                recorded_at=at(inventory_day if reached_social else first_day),
                recorded_by=therapist,
                name=person.name,
                kind=person.kind,
                ring=person.ring,
                is_support=person.is_support,
            )
        )
    for description, mood in rng.sample(LIFE_EVENTS, rng.randint(2, 4)):
        pending.add(
            LifeEvent(
                clinic=clinic,
                patient=patient,
                occurred_on=first_day - timedelta(days=rng.randint(30, 900)),
                description=description,
                relationship=rng.choice(people) if rng.random() < 0.5 else None,
                mood_effect=mood,
            )
        )

    # Problem areas, goals and the formulation are agreed at the end of the social assessment.
    primary_person = next(
        (p for p in people if p.kind in ("deceased", "partner", "parent")), people[0]
    )
    areas: list[ProblemArea] = []
    goals: list[Goal] = []
    areas_chosen = outcome not in ("initial", "social") or rng.random() < 0.4
    if areas_chosen:
        kinds_chosen = [plan.area]
        if rng.random() < 0.25:
            kinds_chosen.append(rng.choice([k for k in AREA_TEXT if k != plan.area]))
        for position, kind in enumerate(kinds_chosen):
            area = pending.add(
                ProblemArea(
                    clinic=clinic,
                    course=course,
                    kind=kind,
                    is_primary=position == 0,
                    deceased=primary_person if kind == "grief" and primary_person.kind == "deceased" else None,
                    deceased_name="" if kind != "grief" or primary_person.kind == "deceased" else "Grandmother",
                    death_date=first_day - timedelta(days=rng.randint(60, 400)) if kind == "grief" else None,
                    other_party=primary_person if kind == "role_dispute" else None,
                    dispute_stage=rng.choice(("impasse", "renegotiation")) if kind == "role_dispute" else "",
                    old_role=rng.choice(("Full-time work", "Living with parents", "Married")) if kind == "role_transition" else "",
                    new_role=rng.choice(("Retired", "New parent", "Living alone")) if kind == "role_transition" else "",
                    notes=AREA_TEXT[kind][0].format(name=primary_person.name, first=plan.first_name),
                )
            )  # fmt: skip
            areas.append(area)
            for text in AREA_TEXT[kind][1:]:
                goals.append(
                    pending.add(
                        Goal(
                            clinic=clinic,
                            course=course,
                            problem_area=area,
                            text=text.format(name=primary_person.name, first=plan.first_name),
                        )
                    )
                )
        course.formulation = (
            f"{plan.first_name}'s depression is understood in the context of "
            + " and ".join(ProblemAreaKind(k).label.lower() for k in kinds_chosen)
            + ": "
            + AREA_TEXT[plan.area][0].format(name=primary_person.name, first=plan.first_name)
        )
        course.formulation_agreed_on = inventory_day + timedelta(days=7 * (lengths[1][1] - 1))

    # Sessions, notes, scores, homework.
    sessions: list[TherapySession] = []
    attended_sessions: list[TherapySession] = []
    day = first_day
    for position, (status, phase) in enumerate(slots):
        if position:
            day = day + timedelta(days=gap(slots[position - 1][1]))
        session = pending.add(
            TherapySession(
                clinic=clinic,
                course=course,
                therapist=therapist,
                scheduled_start=at(day),
                duration_minutes=50,
                modality=modality,
                status=status,
                phase=phase,
                cancel_reason="Unwell" if status == SessionStatus.CANCELLED_PATIENT else "",
                created_by=therapist,
                created_at=min(at(day) - timedelta(days=7), now),
            )
        )
        sessions.append(session)
        if status == SessionStatus.ATTENDED:
            attended_sessions.append(session)
    # The course's attendance figures, as sessions.attendance keeps them.
    attended_starts = sorted(session.scheduled_start for session in attended_sessions)
    course.sessions_attended = len(attended_starts)
    course.last_attended_at = attended_starts[-1] if attended_starts else None
    course.previous_attended_at = attended_starts[-2] if len(attended_starts) > 1 else None
    upcoming: list[TherapySession] = []
    if not ended:
        next_day = day + timedelta(days=gap(slots[-1][1]))
        for extra in range(2 if current_phase != Phase.TERMINATION else 1):
            upcoming.append(
                pending.add(
                    TherapySession(
                        clinic=clinic,
                        course=course,
                        therapist=therapist,
                        scheduled_start=at(next_day + timedelta(days=extra * gap(current_phase))),
                        duration_minutes=50,
                        modality=modality,
                        status=SessionStatus.SCHEDULED,
                        phase=current_phase,
                        created_by=therapist,
                        created_at=min(sessions[-1].scheduled_start + timedelta(hours=1), now),
                    )
                )
            )

    # Phase transitions: started, then forward at the end of each phase's last session.
    transitions = [
        (TransitionKind.STARTED, "", Phase.INITIAL, at(first_day) - timedelta(minutes=5))
    ]
    for previous, session in zip(attended_sessions, attended_sessions[1:], strict=False):
        if session.phase != previous.phase:
            transitions.append(
                (TransitionKind.FORWARD, previous.phase, session.phase, previous.scheduled_start + timedelta(minutes=50))
            )  # fmt: skip
    if outcome == "completed":
        last = attended_sessions[-1]
        transitions.append(
            (TransitionKind.FORWARD, Phase.TERMINATION, Phase.COMPLETED, last.scheduled_start + timedelta(minutes=50))
        )  # fmt: skip
    if outcome == "dropped_out":
        transitions.append(
            (TransitionKind.DROPPED_OUT, current_phase, current_phase, sessions[-1].scheduled_start + timedelta(days=3))
        )  # fmt: skip
    for kind, from_phase, to_phase, when in transitions:
        pending.add(
            PhaseTransition(
                clinic=clinic,
                course=course,
                kind=kind,
                from_phase=from_phase,
                to_phase=to_phase,
                by=therapist,
                at=when,
                reason="Two missed sessions and no reply to messages." if kind == TransitionKind.DROPPED_OUT else "",
                checklist={"exit_criteria_met": True} if kind == TransitionKind.FORWARD else {},
            )
        )  # fmt: skip
    course.phase_started_at = transitions[-1][3]
    if ended:
        course.ended_at = transitions[-1][3]
        course.end_reason = (
            "Course completed as contracted." if outcome == "completed" else "Dropped out."
        )
        patient.status = PatientStatus.DISCHARGED
        patient.discharged_at = course.ended_at

    # Scores every attended session, trending down; item 9 stays 0 but for the risk stories.
    count_attended = len(attended_sessions)
    phq_start, phq_end = rng.randint(14, 22), rng.randint(3, 9)
    gad_start, gad_end = rng.randint(10, 17), rng.randint(2, 8)
    if outcome == "dropped_out":
        phq_end = phq_start - rng.randint(0, 4)
    responded_risk = plan.generated and rng.random() < 0.03
    open_risk = plan.open_risk or (plan.generated and not ended and rng.random() < 0.015)
    phq9_measures: list[Measure] = []
    gad7_measures: list[Measure] = []
    for j, session in enumerate(attended_sessions):
        progress = j / max(1, planned - 1)
        noise = rng.randint(-2, 2) if j else 0
        phq = max(0, min(24, round(phq_start - (phq_start - phq_end) * progress) + noise))
        gad = max(0, min(21, round(gad_start - (gad_start - gad_end) * progress) + noise))
        item9 = 0
        if open_risk and j == count_attended - 1 or responded_risk and j == 0:
            item9 = 1
        taken = session.scheduled_start + timedelta(minutes=5)
        # Some patients fill in their latest PHQ-9 in the portal on the morning of the session.
        by_patient = j == count_attended - 1 and not ended and not item9 and rng.random() < 0.3
        if by_patient:
            taken = session.scheduled_start - timedelta(hours=3)
        measure = _measure(
            pending, rng, plan, course, None if by_patient else session, "phq9", phq, taken, item9
        )
        if by_patient:
            measure.entered_by_kind = EnteredBy.PATIENT
            measure.entered_by = None
            _history(pending, plan, patient, measure, action=AuditAction.CREATE, at=taken,
                     summary=f"PHQ-9 recorded (total {measure.total}, {measure.severity})",
                     by_patient=True)  # fmt: skip
        else:
            _history(pending, plan, patient, patient, action=AuditAction.VIEW,
                     at=session.scheduled_start - timedelta(minutes=10),
                     summary="Patient record viewed")  # fmt: skip
        if item9 and not (open_risk and j == count_attended - 1):
            measure.risk_response = "Safety plan reviewed; no plan or intent. GP informed."
            measure.risk_responded_by = therapist
            measure.risk_responded_at = taken + timedelta(minutes=40)
        phq9_measures.append(measure)
        gad_taken = session.scheduled_start + timedelta(minutes=5)
        gad7_measures.append(_measure(pending, rng, plan, course, session, "gad7", gad, gad_taken))
    if phq9_measures:
        course.baseline_phq9 = phq9_measures[0].total
        course.latest_phq9 = phq9_measures[-1].total
        course.latest_phq9_at = phq9_measures[-1].taken_at
        course.baseline_gad7 = gad7_measures[0].total
        course.latest_gad7 = gad7_measures[-1].total

    # Notes: one per attended session, signed; a few recent ones still open.
    primary_area = areas[0] if areas else None
    for j, session in enumerate(attended_sessions):
        age = now - session.scheduled_start
        unsigned = (plan.unsigned_old_note and j == count_attended - 2) or (
            plan.generated
            and (
                (age < timedelta(days=2) and rng.random() < 0.5)
                or (j == count_attended - 1 and rng.random() < 0.02)
            )
        )
        person = rng.choice(people)
        note = SessionNote(
            clinic=clinic,
            session=session,
            phase=session.phase,
            created_at=session.scheduled_start + timedelta(minutes=50),
            homework_review="Homework reviewed." if session.phase in (Phase.PROBLEM_SOLVING, Phase.TERMINATION) else "",
            narrative=rng.choice(SITUATIONS).format(name=person.name),
            risk_level="low" if phq9_measures[j].risk_flag else "none",
            risk_notes="Passive thoughts, no plan; safety plan agreed." if phq9_measures[j].risk_flag else "",
            updated_by=therapist,
        )  # fmt: skip
        if session.phase == Phase.INITIAL:
            note.symptoms_reviewed = (
                f"PHQ-9 {phq9_measures[j].total}: low mood, poor sleep, withdrawal."
            )
            note.sick_role = "Depression explained as a treatable illness; sick role agreed."
            note.contract = f"{planned} weekly sessions agreed."
        elif session.phase == Phase.SOCIAL:
            note.inventory_work = (
                f"Inventory: talked about {person.name} and the other people closest."
            )
            note.formulation_discussed = "Formulation drafted; to agree next time." if j % 2 else ""
        elif session.phase == Phase.PROBLEM_SOLVING:
            note.focus_problem_area = primary_area
            note.interpersonal_events = rng.choice(SITUATIONS).format(name=person.name)
            note.techniques = rng.sample([t.value for t in Technique], rng.randint(1, 3))
            note.goal_progress = "Some progress on the first goal."
        else:
            note.gains_reviewed = "Reviewed gains: fewer rows at home, more contact with friends."
            note.feelings_about_ending = "Some sadness about ending; confident about the plan."
            note.plan_progress = "Warning signs and supports written down."
        if not unsigned:
            note.signed_at = session.scheduled_start + timedelta(hours=rng.randint(1, 20))
            note.signed_by = therapist
        pending.add(note)
        pending.add(
            NoteRevision(
                clinic=clinic,
                note=note,
                version=1,
                content={"phase": note.phase, "narrative": note.narrative, "risk_level": note.risk_level},
                saved_by=therapist,
                saved_at=session.scheduled_start + timedelta(minutes=55),
            )
        )  # fmt: skip

    # Goal progress, reviewed in the problem-solving and termination sessions.
    working = [
        s for s in attended_sessions if s.phase in (Phase.PROBLEM_SOLVING, Phase.TERMINATION)
    ]
    for goal_number, goal in enumerate(goals):
        reviewed = working[-3:] if goal_number == 0 else working[-1:]
        final = rng.randint(6, 10) if outcome == "completed" else rng.randint(1, 6)
        for k, session in enumerate(reviewed):
            progress = max(0, final - (len(reviewed) - 1 - k) * 2)
            pending.add(
                GoalReview(
                    clinic=clinic,
                    session=session,
                    goal=goal,
                    progress=progress,
                    status=GoalStatus.OPEN,
                    reviewed_by=therapist,
                    reviewed_at=session.scheduled_start + timedelta(minutes=40),
                )
            )
        if reviewed:
            goal.progress = max(0, final)
            goal.last_reviewed_at = reviewed[-1].scheduled_start + timedelta(minutes=40)
        if outcome == "completed":
            goal.status = GoalStatus.ACHIEVED if goal.progress >= 8 else GoalStatus.PARTLY

    # Homework set in the working sessions; reviewed (done / not done) at the next one.
    homework: list[Assignment] = []
    for k, session in enumerate(working):
        if rng.random() > 0.6 and not (k == len(working) - 1 and not ended):
            continue
        kind, title, instructions = rng.choice(HOMEWORK)
        person = rng.choice([p for p in people if p.kind != "deceased"] or people)
        following = working[k + 1] if k + 1 < len(working) else None
        assignment = Assignment(
            clinic=clinic,
            course=course,
            session=session,
            title=title.format(name=person.name),
            instructions=instructions,
            kind=kind,
            relationship=person if kind in ("communication", "role_play", "activity") else None,
            problem_area=primary_area,
            due_date=(following.scheduled_start.date() if following else session.scheduled_start.date() + timedelta(days=7)) - timedelta(days=1),
            created_by=therapist,
            created_at=session.scheduled_start + timedelta(minutes=55),
        )  # fmt: skip
        if following is not None or ended:
            if rng.random() < 0.75:
                assignment.status = AssignmentStatus.DONE
                assignment.reflection = rng.choice(REFLECTIONS)
                assignment.completed_at = datetime.combine(
                    assignment.due_date, time(20, 0), tzinfo=tz
                )
                if rng.random() < 0.6:
                    _history(pending, plan, patient, assignment, action=AuditAction.PORTAL_ACTION,
                             at=assignment.completed_at, by_patient=True,
                             summary="Homework marked done in the portal")  # fmt: skip
            else:
                assignment.status = AssignmentStatus.NOT_DONE
            assignment.reviewed_in = following
        homework.append(pending.add(assignment))

    # The relapse-prevention plan, written in the termination phase.
    if current_phase in (Phase.TERMINATION, Phase.COMPLETED):
        plan_row = pending.add(
            RelapsePreventionPlan(
                clinic=clinic,
                course=course,
                warning_signs="Sleeping badly for more than a week; cancelling plans with friends; snapping at home.",
                coping_strategies="Keep the weekly walk; say what I need early; use the mood log again.",
                if_symptoms_return=f"Phone {clinic.name} on {clinic.phone} or see the GP; ask about a booster session.",
                maintenance_offered=rng.random() < 0.4,
            )
        )  # fmt: skip
        for person in people:
            if person.is_support:
                pending.add(
                    RelapsePreventionPlan.supports.through(
                        relapsepreventionplan=plan_row, relationship=person
                    )
                )

    # The outbox: reminders sent for past sessions, pending for coming ones, homework notices.
    # Only patients who consented get any; a discharged patient gets no new ones.
    if patient.reminder_consent:
        recipient = patient.email if channel == Channel.EMAIL else patient.phone
        lead = timedelta(hours=clinic.reminder_lead_hours)
        for session in sessions + upcoming:
            if session.status == SessionStatus.CANCELLED_PATIENT:
                continue
            intended = session.scheduled_start - lead
            # A reminder whose time has come was sent by then (a running outbox has no
            # backlog); only those still ahead wait in the outbox.
            waiting = intended > now
            failed = plan.failed_reminder and session is sessions[-1]
            notification = Notification(
                clinic=clinic,
                patient=patient,
                kind="session_reminder",
                channel=channel,
                recipient=recipient,
                about_type="session",
                about_id=0,
                created_at=session.created_at,
                due_at=intended,
                status=(
                    NotificationStatus.PENDING
                    if waiting
                    else NotificationStatus.FAILED
                    if failed
                    else NotificationStatus.SENT
                ),
                attempts=0 if waiting else (6 if failed else 1),
                last_error="Provider rejected the number (invalid destination)." if failed else "",
                sent_at=None if waiting or failed else intended + timedelta(minutes=1),
            )
            pending.notifications.append((notification, session, intended))
        for assignment in homework:
            created = assignment.session.scheduled_start + timedelta(hours=1)
            notification = Notification(
                clinic=clinic,
                patient=patient,
                kind="homework_new",
                channel=channel,
                recipient=recipient,
                about_type="assignment",
                about_id=0,
                created_at=created,
                due_at=created,
                status=NotificationStatus.SENT,
                attempts=1,
                sent_at=created + timedelta(minutes=1),
            )
            pending.notifications.append((notification, assignment, created))
            if assignment.status == AssignmentStatus.ASSIGNED and not ended:
                intended = datetime.combine(
                    assignment.due_date - timedelta(days=1), time(9, 0), tzinfo=tz
                )
                notification = Notification(
                    clinic=clinic,
                    patient=patient,
                    kind="homework_due",
                    channel=channel,
                    recipient=recipient,
                    about_type="assignment",
                    about_id=0,
                    created_at=created,
                    due_at=intended,
                    status=NotificationStatus.PENDING
                    if intended > now
                    else NotificationStatus.SENT,
                    attempts=0 if intended > now else 1,
                    sent_at=None if intended > now else intended + timedelta(minutes=1),
                )
                pending.notifications.append((notification, assignment, intended))
    return patient


# --- the whole demo ----------------------------------------------------------------------


@dataclass
class SeedReport:
    created_patients: int = 0
    clinics: list[Clinic] = field(default_factory=list)
    portal_patient: Patient | None = None


def _story_plans(spec: ClinicSpec, clinic: Clinic, staff: dict) -> list[PatientPlan]:
    return [
        PatientPlan(
            clinic=clinic,
            therapist=staff[story.therapist],
            record_number=f"{spec.prefix}-{story.number:04d}",
            first_name=story.first_name,
            last_name=story.last_name,
            outcome=story.outcome,
            area=story.area,
            seed=f"{spec.slug}:story:{story.number}",
            open_risk=story.open_risk,
            unsigned_old_note=story.unsigned_old_note,
            no_show=story.no_show,
            failed_reminder=story.failed_reminder,
            generated=False,
        )
        for story in STORIES
        if story.clinic == spec
    ]


def _generated_plans(spec, clinic, staff, therapist_specs, start, stop) -> list[PatientPlan]:
    named = [s.username for s in spec.staff if s.role == Role.THERAPIST]
    plans = []
    for number in range(start, stop):
        rng = random.Random(f"{spec.slug}:patient:{number}")  # noqa: S311 - demo data, not secrets  # nosec B311
        if therapist_specs:
            username = therapist_specs[(number - 1) // CASELOAD].username
        else:
            username = named[(number - 1) % len(named)]
        plans.append(
            PatientPlan(
                clinic=clinic,
                therapist=staff[username],
                record_number=f"{spec.prefix}-B{number:06d}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                outcome=rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0],
                area=rng.choice(tuple(AREA_TEXT)),
                seed=f"{spec.slug}:patient:{number}",
            )
        )
    return plans


def seed_demo(*, scale: int = 0, stdout=None) -> SeedReport:
    """Create whatever part of the demo is missing. Safe to run any number of times."""
    now = timezone.now().replace(second=0, microsecond=0)
    today = timezone.localdate(now)
    password_hash = make_password(DEMO_PASSWORD)
    report = SeedReport()
    for spec in CLINICS:
        target = spec.generated_target(scale)
        if spec.only_when_scaled and target == 0:
            continue
        created_before = report.created_patients
        with transaction.atomic():
            clinic = ensure_clinic(spec)
            staff = ensure_staff(clinic, spec.staff, password_hash)
            existing = set(
                Patient.objects.filter(clinic=clinic).values_list("record_number", flat=True)
            )
            plans = [
                p for p in _story_plans(spec, clinic, staff) if p.record_number not in existing
            ]
            pending = Pending()
            for plan in plans:
                build_patient(pending, plan, today, now)
            write(pending)
            report.created_patients += len(plans)
        report.clinics.append(clinic)

        # Generated patients: only those missing (numbers 1..target), a chunk per transaction.
        # A clinic whose patients are all generated (the small bench clinic) keeps them with its
        # named therapists; the others get generated therapists, 25 patients each.
        therapist_specs = generated_therapists(spec, target) if spec.per_scale else []
        if therapist_specs:
            staff.update(ensure_staff(clinic, therapist_specs, password_hash))
        have = Patient.objects.filter(
            clinic=clinic, record_number__startswith=f"{spec.prefix}-B"
        ).count()
        for start in range(have + 1, target + 1, CHUNK_PATIENTS):
            stop = min(start + CHUNK_PATIENTS, target + 1)
            with transaction.atomic():
                pending = Pending()
                for plan in _generated_plans(spec, clinic, staff, therapist_specs, start, stop):
                    build_patient(pending, plan, today, now)
                write(pending)
            report.created_patients += stop - start
            if stdout is not None:
                stdout.write(f"  {spec.name}: {stop - 1} of {target} generated patients")
        if report.created_patients > created_before:
            # The sessions were written in bulk: the therapists' attendance weeks from them.
            rebuild_attendance_weeks(clinic.pk, clinic.tz)
    if report.created_patients and connection.vendor == "postgresql":
        # After a bulk load, leave the tables as autovacuum would on a running database. Fresh
        # statistics: the planner would otherwise plan the caseload queries for the empty
        # tables. The visibility map: until a VACUUM marks the new pages all-visible, an
        # index-only scan (the clinic dashboard's counts) still reads every table row. VACUUM
        # cannot run inside a transaction (a test's, say): statistics alone there.
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in (*WRITE_ORDER, AttendanceWeek, Notification, User):
                cursor.execute(f"{statement} {connection.ops.quote_name(model._meta.db_table)}")
    portal_story = next(s for s in STORIES if s.portal_demo)
    report.portal_patient = Patient.objects.filter(
        clinic__slug=portal_story.clinic.slug,
        record_number=f"{portal_story.clinic.prefix}-{portal_story.number:04d}",
    ).first()
    return report


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, name, role, clinic) of the named demo staff."""
    names = [s.username for spec in CLINICS for s in spec.staff]
    users = User.objects.filter(username__in=names).select_related("clinic")
    by_name = {u.username: u for u in users}
    return [
        (n, by_name[n].display_name, by_name[n].get_role_display(), by_name[n].clinic.name)
        for n in names
        if n in by_name
    ]


def summary_rows() -> list[tuple[str, ...]]:
    """Counts per demo clinic and in total: the table the command prints."""
    from django.db.models import Count

    slugs = [spec.slug for spec in CLINICS]
    clinics = list(Clinic.objects.filter(slug__in=slugs).order_by("name"))
    columns = (
        ("staff", User.objects.filter(clinic__slug__in=slugs)),
        ("patients", Patient.objects.filter(clinic__slug__in=slugs)),
        ("courses", TreatmentCourse.objects.filter(clinic__slug__in=slugs)),
        ("sessions", TherapySession.objects.filter(clinic__slug__in=slugs)),
        ("measures", Measure.objects.filter(clinic__slug__in=slugs)),
        ("assignments", Assignment.objects.filter(clinic__slug__in=slugs)),
    )
    counts = {
        name: dict(qs.values_list("clinic_id").annotate(n=Count("id")).order_by())
        for name, qs in columns
    }
    rows = []
    for clinic in clinics:
        rows.append((clinic.name, *(str(counts[name].get(clinic.pk, 0)) for name, _ in columns)))
    totals = [sum(counts[name].values()) for name, _ in columns]
    rows.append((f"Total ({len(clinics)} clinics)", *(str(t) for t in totals)))
    return rows


SUMMARY_HEADER = ("clinic", "staff", "patients", "courses", "sessions", "measures", "assignments")


def demo_portal_url(patient: Patient | None) -> str | None:
    """A working portal link for the demo patient, the same one on every run.

    Only a hash of a token is stored, so a link made by ``portal_link_create`` could be printed
    once only. The demo link's token is instead derived from SECRET_KEY and the record number
    (an HMAC): each run finds the same link and prints the same address. If staff have since
    replaced it, the portal's own service makes a new one (which revokes the others).
    """
    if patient is None:
        return None
    try:
        from patients.portal_links import hash_token, portal_link_create, portal_link_url
    except ImportError:
        return None
    from django.conf import settings

    from ipt_clinic.audit.services import AuditAction, audit_record
    from patients.models import PortalLink

    token = (
        base64.urlsafe_b64encode(
            hmac.new(
                settings.SECRET_KEY.encode(),
                f"demo-portal-link:{patient.clinic_id}:{patient.record_number}".encode(),
                hashlib.sha256,
            ).digest()
        )
        .decode()
        .rstrip("=")
    )
    with transaction.atomic():
        link = PortalLink.objects.filter(token_hash=hash_token(token)).first()
        if link is None and not PortalLink.objects.filter(patient=patient).exists():
            link = PortalLink.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                token_hash=hash_token(token),
                created_by=patient.primary_therapist,
            )
            audit_record(
                action=AuditAction.CREATE,
                clinic_id=patient.clinic_id,
                actor_kind="system",
                patient_id=patient.pk,
                target=link,
                summary="Portal link created (demo data)",
            )
        if link is not None and link.patient_id == patient.pk and link.revoked_at is None:
            return portal_link_url(token)
        live = PortalLink.objects.filter(patient=patient, revoked_at__isnull=True).exists()
        if live:
            return None  # staff made their own link; its token is not ours to know
        _link, url = portal_link_create(patient=patient, by=patient.primary_therapist)
        return url
