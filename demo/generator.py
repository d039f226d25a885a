"""Generated demo patients: the background caseloads of the small demo and the thousands of
patients of ``seed_demo --scale N`` (the benchmark's clinics).

Rows are written straight to the tables, in bulk (``COPY`` on PostgreSQL, ``bulk_create``
elsewhere): the services write one row at a time with its audit trail, which at 20,000
patients would take hours. What the generator writes is still what the services would have
left behind, and it holds to the same clinical sense as the hand-written stories
(``demo.stories``, checked for both by ``tests/demo/test_demo_consistency.py``):

- the problem areas are drawn first and the people follow from them: a grief course has its
  deceased person in the inventory (kind "deceased", never a living partner), and a widowed
  patient has no living partner; a role dispute is with a living person of the inner ring;
  a role transition's old and new roles go with the patient's age and a life event;
- the dead are spoken of in the past, are nobody's support and get no homework;
- every date is in the past (but the coming sessions and the notices waiting for them) and
  in the order the course lived it: the patient's record, then the course, each session
  booked at the end of the one before, the contract agreed at the second session, the
  formulation at the end of the social assessment, life events before they were recorded;
- every score is taken at an attended session (or, filled in through the portal, on the
  morning of one), and each creation time is the story's, on every database.

Every patient has a fixed record number and its own seeded ``random.Random``, so a second run
finds every patient already there and adds nothing, and a larger scale only adds the patients
that are missing.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, models
from django.utils import timezone

from ipt_clinic import rows as fixed_rows
from ipt_clinic.accounts.models import Clinic, User
from ipt_clinic.audit.models import AuditAction, AuditEvent
from notifications.models import Notification, NotificationStatus
from notifications.outbox import dedupe_key
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
    DisputeStageEntry,
    Goal,
    GoalStatus,
    Phase,
    PhaseTransition,
    ProblemArea,
    RelapsePreventionPlan,
    TransitionKind,
    TreatmentCourse,
)
from sessions.models import (
    Assignment,
    AssignmentStatus,
    EnteredBy,
    GoalReview,
    Measure,
    NoteRevision,
    SessionNote,
    SessionStatus,
    Technique,
    TherapySession,
)
from sessions.scoring import score

from .clinics import BATCH_SIZE, ClinicSpec, StaffSpec

CHUNK_PATIENTS = 400  # generated patients written per transaction
CASELOAD = 25  # generated patients per generated therapist

# Outcomes a course can have reached: the four phases, or ended.
OUTCOMES = ("initial", "social", "problem_solving", "termination", "completed", "dropped_out")
OUTCOME_WEIGHTS = (14, 14, 34, 16, 14, 8)
PHASE_RANK = {phase: rank for rank, phase in enumerate(OUTCOMES[:4])}

# fmt: off
FIRST_NAMES = [
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Willow", "Freya", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie", "Charlotte",
    "Noah", "Oliver", "George", "Arthur", "Muhammad", "Leo", "Harry", "Oscar", "Archie", "Henry",
    "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley", "Arlo",
    "William", "Lucas", "Roman", "Tommy", "Isaac", "Teddy", "Alexander", "Luca", "Edward", "James",
    "Joshua", "Albie", "Elijah", "Max", "Mohammed", "Reggie", "Hugo", "Aaliyah", "Zara", "Nia",
    "Kofi", "Anjali", "Ravi", "Sunita", "Ewan", "Morag", "Siobhan", "Ciaran", "Dafydd", "Eira",
]
LAST_NAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
    "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
    "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey",
    "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall",
    "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson", "Foster", "Chapman",
    "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell",
]
# fmt: on

# (kind, ring, is_support) of the living people an inventory is drawn from.
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
SATISFYING = ("Easy company", "Always there in a crisis", "Shared history", "Makes me laugh")
UNSATISFYING = (
    "Criticises my choices",
    "We only talk about practical things",
    "Hard to reach lately",
    "",
)
WANTS = ("See them more often", "Argue less", "Say what I need", "")

# Who died, for a grief course: (what they were, the name they go by or None for a first
# name). The dead are remembered in the past tense: nobody "makes me laugh" any more.
LOSSES = (("parent", "Mum"), ("parent", "Dad"), ("partner", None), ("sibling", None))
REMEMBERED = (
    "Always on my side; we spoke most days",
    "The one who knew me longest",
    "Steady and kind; I could tell them anything",
)
REGRETS = (
    "Never talked about being ill, so I found out from the doctors",
    "We had fallen out in the last year and never put it right",
    "",
)
MOURNING = (
    "Avoids reminders; has not sorted their things",
    "Stuck in anger about the last months of the illness",
    "Cannot talk about them without breaking down; avoids family gatherings",
)

# Role transitions that go together: (old role, new role, the life event, mood effect, ages).
TRANSITIONS = (
    ("Full-time work", "Retired", "Retired after 30 years", -1, (60, 70)),
    ("Working full time, no children", "New parent", "Birth of a first child", 1, (24, 42)),
    ("Living with parents", "Living alone in a new city", "Moved to a new city for work", -1, (19, 30)),
    ("Employed as a site manager", "Out of work", "Made redundant", -2, (25, 60)),
)  # fmt: skip

# Life events that fit any story (each patient's timeline also has its problem area's own).
NEUTRAL_EVENTS = (
    ("Moved house", -1),
    ("Joined a walking group", 1),
    ("Went back to college", 1),
    ("Argument with a neighbour", -1),
    ("Took up swimming again", 1),
)

# "understood in the context of ...", as a formulation says it.
AREA_IN_CONTEXT = {
    "grief": "grief",
    "role_dispute": "a role dispute",
    "role_transition": "a role transition",
    "interpersonal_deficits": "interpersonal deficits",
}

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
    ("activity", "Plan one shared activity with {name}", "Suggest something you both used to enjoy and note what happened."),
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
    "Noticed the link between evenings alone and low mood; rang {name} twice.",
    "Tried the new way of asking {name} for help; partly successful.",
)
GRIEF_SITUATIONS = (
    "Talked about {name}'s last months, the good days and the hard ones.",
    "Brought photographs of {name}; cried for the first time in the sessions.",
    "Spoke about what was left unsaid to {name}, and the anger about it.",
)


def generated_therapists(spec: ClinicSpec, patients: int) -> list[StaffSpec]:
    """The generated therapists of a clinic with ``patients`` generated patients."""
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


@dataclass(frozen=True)
class Background:
    """A named patient of the small demo whose course the generator writes (the clinic's
    caseload around the four hand-written stories)."""

    clinic: ClinicSpec
    therapist: str
    number: int
    first_name: str
    last_name: str
    outcome: str
    area: str
    unsigned_old_note: bool = False
    no_show: bool = False
    failed_reminder: bool = False
    # A finished course's story in its scores: PHQ-9 and GAD-7 at the first and the last
    # attended session (otherwise drawn at random, trending down).
    scores: tuple[int, int, int, int] | None = None


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
    unsigned_old_note: bool = False
    no_show: bool = False
    failed_reminder: bool = False
    generated: bool = True
    scores: tuple[int, int, int, int] | None = None


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
    DisputeStageEntry,
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
    postgresql = connection.vendor == "postgresql"
    insert = _copy_rows if postgresql else _bulk_create_rows
    for model in WRITE_ORDER:
        rows = pending.rows.get(model)
        if rows:
            insert(model, rows)
    for notification, about, intended in pending.notifications:
        notification.about_id = about.pk
        notification.dedupe_key = dedupe_key(
            notification.about_type, about.pk, notification.kind, notification.channel, intended
        )
    if pending.notifications:
        insert(Notification, [n for n, *_ in pending.notifications])
    for event, target, patient in pending.history:
        event.object_id = target.pk
        event.patient_id = patient.pk
    if not pending.history:
        return
    if postgresql:
        _copy_rows(AuditEvent, [event for event, *_ in pending.history])
    else:
        # Audit events are append-only (no UPDATE to restore their time after a bulk
        # insert): one fixed INSERT each, with the time the story gives.
        fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
        for event, *_ in pending.history:
            fixed_rows.insert(AuditEvent, {f.attname: getattr(event, f.attname) for f in fields})


def _stamped_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]


def _bulk_create_rows(model: type[models.Model], rows: list) -> None:
    """``bulk_create``, then the creation and change times the story gave put back (the
    insert stamps ``auto_now`` fields with the real now): one UPDATE statement run for every
    such row (``bulk_update``'s CASE expressions took most of a scale-1 seed on SQLite)."""
    stamped = _stamped_fields(model)
    intended = [[getattr(row, f.attname) for f in stamped] for row in rows]
    model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    restore = []
    for row, values in zip(rows, intended, strict=True):
        if not any(values):
            continue
        for f, value in zip(stamped, values, strict=True):
            if value:
                setattr(row, f.attname, value)
        restore.append(
            [f.get_db_prep_save(getattr(row, f.attname), connection) for f in stamped] + [row.pk]
        )
    if restore:
        quote = connection.ops.quote_name
        meta = model._meta
        columns = ", ".join(f"{quote(f.column)} = %s" for f in stamped)
        sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model, values as parameters  # nosec B608
        with connection.cursor() as cursor:
            cursor.executemany(sql, restore)


def _copy_rows(model: type[models.Model], rows: list) -> None:
    """``COPY ... FROM STDIN`` with ids drawn from the table's own sequence first, so the rows
    written next can point at these (what ``bulk_create`` does with RETURNING, without its
    per-value preparation). A foreign key still empty is taken from the related object the
    row was given (made before it had an id)."""
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = meta.concrete_fields
    now = timezone.now()
    quote = connection.ops.quote_name
    stamped = {f.attname for f in _stamped_fields(model)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for f in fields:
                    value = getattr(row, f.attname)
                    if value is None and f.is_relation:
                        related = getattr(row, f.name)
                        value = related.pk if related is not None else None
                    elif f.attname in stamped:
                        value = value or now
                    elif isinstance(f, models.JSONField):
                        value = Jsonb(value)
                    values.append(value)
                copy.write_row(values)


# --- one patient's course ----------------------------------------------------------------


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


def _pick_name(rng: random.Random, taken: set[str]) -> str:
    name = rng.choice([n for n in FIRST_NAMES if n not in taken])
    taken.add(name)
    return name


def build_patient(pending: Pending, plan: PatientPlan, today: date, now: datetime) -> Patient:
    rng = random.Random(plan.seed)  # noqa: S311 - demo data, not secrets  # nosec B311
    clinic, therapist = plan.clinic, plan.therapist
    tz = ZoneInfo(clinic.time_zone)
    outcome = plan.outcome

    # What the course is about comes first: the people and events follow from it.
    area_kinds = [plan.area]
    if rng.random() < 0.25:
        area_kinds.append(rng.choice([k for k in AREA_TEXT if k != plan.area]))
    transition = rng.choice(TRANSITIONS) if "role_transition" in area_kinds else None
    age = rng.randint(*transition[4]) if transition else rng.randint(19, 75)
    losses = [loss for loss in LOSSES if age >= 30 or loss[0] != "partner"]
    loss = rng.choice(losses) if "grief" in area_kinds else None

    channel = rng.choices((Channel.EMAIL, Channel.SMS, Channel.NONE), (70, 20, 10))[0]
    email = f"{plan.first_name}.{plan.last_name}.{plan.record_number}".lower().replace("-", "")
    patient = pending.add(
        Patient(
            clinic=clinic,
            primary_therapist=therapist,
            record_number=plan.record_number,
            first_name=plan.first_name,
            last_name=plan.last_name,
            date_of_birth=date(today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
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
    if outcome == "completed":
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

    days = []
    day = first_day
    for position in range(len(slots)):
        if position:
            day = day + timedelta(days=gap(slots[position - 1][1]))
        days.append(day)
    attended_days = [d for d, (status, _) in zip(days, slots, strict=True) if status == "attended"]
    attended_phases = [p for status, p in slots if status == SessionStatus.ATTENDED]

    def end_of(day: date) -> datetime:
        return at(day) + timedelta(minutes=50)

    def last_in(phase: str) -> date | None:
        found = [d for d, p in zip(attended_days, attended_phases, strict=True) if p == phase]
        return found[-1] if found else None

    left_social = any(PHASE_RANK[p] > PHASE_RANK[Phase.SOCIAL] for p in attended_phases)
    reached_social = Phase.SOCIAL in attended_phases
    past_initial = left_social or reached_social

    current_phase = (
        Phase.COMPLETED
        if outcome == "completed"
        else (phase_of_attended[attended - 1] if outcome == "dropped_out" else outcome)
    )
    # The course is opened a week before its first session, which is booked there and then;
    # the patient's record a little before that.
    opened = at(first_day) - timedelta(days=7, hours=1)
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
            # Agreed at the second session of the initial phase, once it has taken place.
            contract_agreed_on=attended_days[1] if len(attended_days) > 1 else None,
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
            # Weighed in the initial assessment, before the course moved on.
            medication_considered=past_initial,
            referral_considered=past_initial,
            medication_referral_notes=(
                f"Discussed with {plan.first_name}: IPT alone for now, the GP to review "
                "antidepressants if the PHQ-9 has not fallen by mid-course; no referral elsewhere."
                if past_initial
                else ""
            ),
            created_at=opened,
        )
    )
    patient.created_at = opened - timedelta(days=rng.randint(1, 14))
    patient.reminder_consent_at = patient.created_at if patient.reminder_consent else None

    # The interpersonal inventory: 3-6 people over the rings, recorded at the first social
    # assessment session (or the assessment itself while the course is in its first phase).
    inventory_day = next(
        (d for d, p in zip(attended_days, attended_phases, strict=True) if p == Phase.SOCIAL),
        attended_days[0],
    )
    recorded = end_of(inventory_day)
    candidates = list(PEOPLE)
    closest = PEOPLE[0] if rng.random() < 0.6 else PEOPLE[1]
    if loss and loss[0] == "partner":
        # Widowed: the late partner is the one in the inventory, not a living one.
        candidates = [p for p in candidates if p[0] not in ("partner", "ex_partner")]
        closest = ("child", 1, True)
    count = rng.randint(3, 6)
    others = [p for p in candidates if p != closest]
    kinds = [closest, *rng.sample(others, count - 1 - (1 if loss else 0))]
    taken_names = {plan.first_name}
    if loss:
        taken_names.add(loss[1] or "")
    living: list[Relationship] = []
    parents = ["Mum", "Dad"]
    if loss and loss[1] in parents:
        parents.remove(loss[1])
    for kind, ring, support in kinds:
        if kind == "parent" and parents:
            name = parents.pop(rng.randrange(len(parents)))
        else:
            name = _pick_name(rng, taken_names)
        living.append(
            pending.add(
                Relationship(
                    clinic=clinic,
                    patient=patient,
                    name=name,
                    kind=kind,
                    ring=ring,
                    contact_frequency=rng.choice(CONTACT),
                    satisfying=rng.choice(SATISFYING),
                    unsatisfying=rng.choice(UNSATISFYING),
                    patient_expectations="To listen without fixing things",
                    their_expectations="To keep in touch more",
                    expectations_met=rng.choice(("yes", "partly", "no", "unknown")),
                    wants_to_change=rng.choice(WANTS),
                    changed_near_onset=rng.random() < 0.3,
                    is_support=support,
                    created_at=recorded,
                    updated_at=recorded,
                )
            )
        )
    deceased = None
    death_date = None
    if loss:
        death_date = first_day - timedelta(days=rng.randint(60, 400))
        deceased = pending.add(
            Relationship(
                clinic=clinic,
                patient=patient,
                name=loss[1] or _pick_name(rng, taken_names),
                kind=loss[0],
                deceased=True,
                died_on=death_date,
                ring=1 if loss[0] in ("parent", "partner") else 2,
                satisfying=rng.choice(REMEMBERED),
                unsatisfying=rng.choice(REGRETS),
                wants_to_change="To remember them without falling apart",
                changed_near_onset=True,
                change_when=f"Died {death_date:%B %Y} (was the patient's {loss[0]})",
                is_support=False,
                created_at=recorded,
                updated_at=recorded,
            )
        )
    people = [*living, *([deceased] if deceased else [])]
    for person in people:
        pending.add(
            RelationshipRevision(
                clinic=clinic,
                patient=patient,
                relationship=person,
                recorded_at=recorded,
                recorded_by=therapist,
                name=person.name,
                kind=person.kind,
                ring=person.ring,
                is_support=person.is_support,
                deceased=person.deceased,
            )
        )
    # A role dispute is with someone close and alive; homework and notes name the living.
    party = living[0]

    # The timeline: each problem area's own event, and one or two others; all before the
    # course, recorded with the inventory.
    events: list[tuple[str, int, Relationship | None, date]] = []
    transition_date = first_day - timedelta(days=rng.randint(30, 300)) if transition else None
    for kind in area_kinds:
        if kind == "grief":
            events.append((f"{deceased.name} died", -2, deceased, death_date))
        elif kind == "role_dispute":
            when = first_day - timedelta(days=rng.randint(30, 200))
            events.append((f"Row with {party.name} at a family wedding", -2, party, when))
        elif kind == "role_transition":
            events.append((transition[2], transition[3], None, transition_date))
        else:
            when = first_day - timedelta(days=rng.randint(100, 900))
            events.append(("Best friend moved abroad", -1, None, when))
    for description, mood in rng.sample(NEUTRAL_EVENTS, rng.randint(1, 2)):
        person = rng.choice(living) if rng.random() < 0.3 else None
        events.append((description, mood, person, first_day - timedelta(days=rng.randint(30, 900))))
    for description, mood, person, when in events:
        pending.add(
            LifeEvent(
                clinic=clinic,
                patient=patient,
                occurred_on=when,
                description=description,
                relationship=person,
                mood_effect=mood,
                created_at=recorded,
            )
        )

    # Problem areas, goals and the formulation: chosen during the social assessment and
    # agreed at its last session.
    areas: list[ProblemArea] = []
    goals: list[Goal] = []
    areas_chosen = left_social or (reached_social and rng.random() < 0.4)
    chosen_at = end_of(last_in(Phase.SOCIAL)) if reached_social else None
    if areas_chosen:
        for position, kind in enumerate(area_kinds):
            name = deceased.name if kind == "grief" else party.name
            area = pending.add(
                ProblemArea(
                    clinic=clinic,
                    course=course,
                    kind=kind,
                    is_primary=position == 0,
                    deceased=deceased if kind == "grief" else None,
                    mourning_status=rng.choice(MOURNING) if kind == "grief" else "",
                    other_party=party if kind == "role_dispute" else None,
                    dispute_stage=rng.choice(("impasse", "renegotiation")) if kind == "role_dispute" else "",
                    old_role=transition[0] if kind == "role_transition" else "",
                    new_role=transition[1] if kind == "role_transition" else "",
                    transition_date=transition_date if kind == "role_transition" else None,
                    notes=AREA_TEXT[kind][0].format(name=name, first=plan.first_name),
                    created_at=chosen_at,
                )
            )  # fmt: skip
            areas.append(area)
            if kind == "role_dispute":
                # The stage as first recorded: the start of the dispute's stage history.
                pending.add(
                    DisputeStageEntry(
                        clinic=clinic,
                        course=course,
                        problem_area=area,
                        stage=area.dispute_stage,
                        recorded_on=chosen_at.astimezone(tz).date(),
                        by=therapist,
                        at=chosen_at,
                    )
                )
            for text in AREA_TEXT[kind][1:]:
                goals.append(
                    pending.add(
                        Goal(
                            clinic=clinic,
                            course=course,
                            problem_area=area,
                            text=text.format(name=name, first=plan.first_name),
                            created_at=chosen_at,
                        )
                    )
                )
        primary_name = deceased.name if plan.area == "grief" else party.name
        course.formulation = (
            f"{plan.first_name}'s depression is understood in the context of "
            + " and ".join(AREA_IN_CONTEXT[k] for k in area_kinds)
            + ". "
            + AREA_TEXT[plan.area][0].format(name=primary_name, first=plan.first_name)
        )
        if left_social:
            course.formulation_agreed_on = last_in(Phase.SOCIAL)

    # Sessions, each booked at the end of the one before (the first when the course opened).
    sessions: list[TherapySession] = []
    attended_sessions: list[TherapySession] = []
    booked = opened
    for day, (status, phase) in zip(days, slots, strict=True):
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
                created_at=booked,
            )
        )
        booked = at(day) + timedelta(minutes=55)
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
        next_day = days[-1] + timedelta(days=gap(slots[-1][1]))
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
                        created_at=booked,
                    )
                )
            )

    # Phase transitions: started when the course opened, then forward at the end of each
    # phase's last session.
    transitions = [(TransitionKind.STARTED, "", Phase.INITIAL, opened)]
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
    course.updated_at = transitions[-1][3]
    if ended:
        course.ended_at = transitions[-1][3]
        course.end_reason = (
            "Course completed as contracted." if outcome == "completed" else "Dropped out."
        )
        patient.status = PatientStatus.DISCHARGED
        patient.discharged_at = course.ended_at
    patient.updated_at = patient.discharged_at or patient.created_at

    # Scores every attended session, trending down; item 9 stays 0 but for the rare
    # generated risk (an open flag only while the course runs).
    count_attended = len(attended_sessions)
    phq_start, phq_end = rng.randint(14, 22), rng.randint(3, 9)
    gad_start, gad_end = rng.randint(10, 17), rng.randint(2, 8)
    if outcome == "dropped_out":
        phq_end = phq_start - rng.randint(0, 4)
    if plan.scores:
        phq_start, phq_end, gad_start, gad_end = plan.scores
    # A told story reaches its last scores at the last attended session.
    span_of_scores = count_attended - 1 if plan.scores else planned - 1
    responded_risk = plan.generated and rng.random() < 0.03
    open_risk = plan.generated and not ended and rng.random() < 0.015
    phq9_measures: list[Measure] = []
    gad7_measures: list[Measure] = []
    for j, session in enumerate(attended_sessions):
        progress = j / max(1, span_of_scores)
        noise = rng.randint(-2, 2) if j else 0
        if plan.scores and j == count_attended - 1:
            noise = 0
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

    # Notes: one per attended session, signed within a day; a few recent ones still open.
    primary_area = areas[0] if areas else None
    for j, session in enumerate(attended_sessions):
        age = now - session.scheduled_start
        signed_at = session.scheduled_start + timedelta(hours=rng.randint(1, 20))
        unsigned = (
            signed_at > now
            or (plan.unsigned_old_note and j == count_attended - 2)
            or (
                plan.generated
                and (
                    (age < timedelta(days=2) and rng.random() < 0.5)
                    or (j == count_attended - 1 and rng.random() < 0.02)
                )
            )
        )
        person = rng.choice(living)
        if deceased is not None and session.phase != Phase.INITIAL and rng.random() < 0.5:
            narrative = rng.choice(GRIEF_SITUATIONS).format(name=deceased.name)
        else:
            narrative = rng.choice(SITUATIONS).format(name=person.name)
        written = session.scheduled_start + timedelta(minutes=50)
        note = SessionNote(
            clinic=clinic,
            session=session,
            phase=session.phase,
            created_at=written,
            updated_at=written,
            homework_review="Homework reviewed." if session.phase in (Phase.PROBLEM_SOLVING, Phase.TERMINATION) else "",
            narrative=narrative,
            risk_level="low" if phq9_measures[j].risk_flag else "none",
            risk_notes="Passive thoughts, no plan; safety plan agreed." if phq9_measures[j].risk_flag else "",
            updated_by=therapist,
        )  # fmt: skip
        if session.phase == Phase.INITIAL:
            note.symptoms_reviewed = (
                f"PHQ-9 {phq9_measures[j].total}: low mood, poor sleep, withdrawal."
            )
            note.sick_role = "Depression explained as a treatable illness; sick role agreed."
            note.contract = (
                f"{planned} weekly sessions agreed." if j == 1 else "Contract to agree next time."
            )
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
            note.signed_at = signed_at
            note.signed_by = therapist
            note.updated_at = signed_at
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
        person = rng.choice(living)
        following = working[k + 1] if k + 1 < len(working) else None
        set_at = session.scheduled_start + timedelta(minutes=55)
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
            created_at=set_at,
            updated_at=set_at,
        )  # fmt: skip
        if following is not None or ended:
            if rng.random() < 0.75:
                assignment.status = AssignmentStatus.DONE
                assignment.reflection = rng.choice(REFLECTIONS)
                assignment.completed_at = datetime.combine(
                    assignment.due_date, time(20, 0), tzinfo=tz
                )
                assignment.updated_at = assignment.completed_at
                if rng.random() < 0.6:
                    _history(pending, plan, patient, assignment, action=AuditAction.PORTAL_ACTION,
                             at=assignment.completed_at, by_patient=True,
                             summary="Homework marked done in the portal")  # fmt: skip
            else:
                assignment.status = AssignmentStatus.NOT_DONE
            assignment.reviewed_in = following
        homework.append(pending.add(assignment))

    # The relapse-prevention plan, written at the first termination session; the people to
    # turn to are the living supports.
    written_in = next((s for s in attended_sessions if s.phase == Phase.TERMINATION), None)
    if written_in is not None:
        plan_written = written_in.scheduled_start + timedelta(minutes=45)
        plan_row = pending.add(
            RelapsePreventionPlan(
                clinic=clinic,
                course=course,
                warning_signs="Sleeping badly for more than a week; cancelling plans with friends; snapping at home.",
                coping_strategies="Keep the weekly walk; say what I need early; use the mood log again.",
                if_symptoms_return=f"Phone {clinic.name} on {clinic.phone} or see the GP; ask about a booster session.",
                maintenance_offered=rng.random() < 0.4,
                created_at=plan_written,
                updated_at=plan_written,
            )
        )  # fmt: skip
        for person in living:
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
            booked = session.created_at
            notification = Notification(
                clinic=clinic,
                patient=patient,
                kind="session_reminder",
                channel=channel,
                recipient=recipient,
                about_type="session",
                about_id=0,
                created_at=booked,
                updated_at=booked if waiting else max(intended, booked) + timedelta(minutes=1),
                due_at=max(intended, booked),
                status=(
                    NotificationStatus.PENDING
                    if waiting
                    else NotificationStatus.FAILED
                    if failed
                    else NotificationStatus.SENT
                ),
                attempts=0 if waiting else (6 if failed else 1),
                last_error="Provider rejected the number (invalid destination)." if failed else "",
                sent_at=None if waiting or failed else max(intended, booked) + timedelta(minutes=1),
            )
            pending.notifications.append((notification, session, intended))
        for assignment in homework:
            created = assignment.created_at
            notification = Notification(
                clinic=clinic,
                patient=patient,
                kind="homework_new",
                channel=channel,
                recipient=recipient,
                about_type="assignment",
                about_id=0,
                created_at=created,
                updated_at=created + timedelta(minutes=1),
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
                if intended < created:
                    continue  # due the day after it was set: no "due tomorrow" notice
                notification = Notification(
                    clinic=clinic,
                    patient=patient,
                    kind="homework_due",
                    channel=channel,
                    recipient=recipient,
                    about_type="assignment",
                    about_id=0,
                    created_at=created,
                    updated_at=created if intended > now else intended + timedelta(minutes=1),
                    due_at=intended,
                    status=NotificationStatus.PENDING
                    if intended > now
                    else NotificationStatus.SENT,
                    attempts=0 if intended > now else 1,
                    sent_at=None if intended > now else intended + timedelta(minutes=1),
                )
                pending.notifications.append((notification, assignment, intended))
    return patient
