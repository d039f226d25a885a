"""``seed_demo``: the demo clinics, their staff and patients, for `make run`, the browser
journeys and the benchmark.

- Northgate IPT Service: Anna Whitfield's four hand-written stories (``demo.stories``, told
  through the services) and Ben Adeyemi's caseload; Southbank Wellbeing Clinic: two more
  caseloads. Those twenty-nine named patients around the stories come from the generator
  (``demo.generator``), so that the clinic admins' pages have a clinic to show.
- ``--scale N`` adds about 200*N generated patients (and Lakeside, the small clinic of the
  dashboard benchmark).

Safe to run any number of times: whatever is there already is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from caseload.figures import figures_rebuild
from caseload.models import TherapistFigures
from ipt_clinic.accounts.models import Clinic, Role, User
from notifications.models import Notification
from patients.models import Patient
from sessions.attendance import rebuild_attendance_weeks
from sessions.models import AttendanceWeek

from . import generator
from .clinics import (
    CLINICS,
    DEMO_PASSWORD,
    NORTHGATE,
    SOUTHBANK,
    TOUR_THERAPIST,
    ensure_clinic,
    ensure_staff,
)
from .generator import (
    CASELOAD,
    Background,
    PatientPlan,
    Pending,
    build_patient,
    generated_therapists,
    write,
)
from .guard import refuse_in_production
from .stories import tell_stories

# The demo patient whose portal link the commands print (a hand-written story).
PORTAL_PATIENT = (NORTHGATE.slug, "NG-0001")

BACKGROUND = (
    Background(NORTHGATE, "north.ben", 5, "Elena", "Rossi", "initial", "grief"),
    Background(NORTHGATE, "north.ben", 6, "Declan", "Murphy", "social", "role_transition"),
    Background(NORTHGATE, "north.ben", 7, "Samir", "Qureshi", "problem_solving", "role_dispute", unsigned_old_note=True),
    Background(NORTHGATE, "north.ben", 8, "Fatima", "Begum", "termination", "grief", failed_reminder=True),
    Background(NORTHGATE, "north.ben", 9, "Lewis", "Carter", "dropped_out", "interpersonal_deficits"),
    Background(NORTHGATE, "north.ben", 10, "Imogen", "Price", "completed", "role_transition"),
    Background(NORTHGATE, "north.ben", 11, "Harriet", "Cole", "completed", "role_dispute"),
    Background(NORTHGATE, "north.ben", 12, "Jonah", "Pryce", "problem_solving", "grief", no_show=True),
    # Ben's finished courses, told in their first and last PHQ-9 and GAD-7 (the outcomes page's
    # figures as services report them): most improve, some recover, one deteriorates.
    Background(NORTHGATE, "north.ben", 13, "Owen", "Hughes", "completed", "grief", scores=(19, 6, 14, 5)),
    Background(NORTHGATE, "north.ben", 14, "Grace", "Okoro", "completed", "role_dispute", scores=(16, 8, 11, 6)),
    Background(NORTHGATE, "north.ben", 15, "Martin", "Kelly", "completed", "interpersonal_deficits", scores=(18, 13, 13, 9)),
    Background(NORTHGATE, "north.ben", 16, "Sophie", "Turner", "dropped_out", "role_transition", scores=(12, 19, 9, 13)),
    Background(NORTHGATE, "north.ben", 17, "Ravi", "Patel", "completed", "role_transition", scores=(15, 9, 10, 7)),
    Background(NORTHGATE, "north.ben", 18, "Daniel", "Shaw", "completed", "grief", scores=(9, 4, 7, 3)),
    Background(SOUTHBANK, "south.chloe", 1, "Tomasz", "Nowak", "problem_solving", "role_transition"),
    Background(SOUTHBANK, "south.chloe", 2, "Aisha", "Bello", "initial", "role_dispute"),
    Background(SOUTHBANK, "south.chloe", 3, "Rory", "Fitzgerald", "social", "grief"),
    Background(SOUTHBANK, "south.chloe", 4, "Mei", "Chen", "termination", "role_dispute"),
    Background(SOUTHBANK, "south.chloe", 5, "Bethan", "Lloyd", "completed", "interpersonal_deficits"),
    Background(SOUTHBANK, "south.chloe", 6, "Kwame", "Asante", "dropped_out", "role_dispute", no_show=True),
    Background(SOUTHBANK, "south.dev", 7, "Niamh", "Gallagher", "problem_solving", "grief"),
    Background(SOUTHBANK, "south.dev", 8, "Arjun", "Mehta", "problem_solving", "role_dispute", no_show=True),
    Background(SOUTHBANK, "south.dev", 9, "Zofia", "Kowalska", "initial", "interpersonal_deficits"),
    Background(SOUTHBANK, "south.dev", 10, "Callum", "Reid", "social", "role_transition"),
    Background(SOUTHBANK, "south.dev", 11, "Hannah", "Osei", "termination", "role_transition"),
    Background(SOUTHBANK, "south.dev", 12, "Luca", "Bianchi", "completed", "grief"),
    Background(SOUTHBANK, "south.chloe", 13, "Ella", "Watson", "completed", "grief", scores=(17, 7, 12, 5)),
    Background(SOUTHBANK, "south.dev", 14, "Yusuf", "Ali", "completed", "role_dispute", scores=(20, 11, 15, 10)),
    Background(SOUTHBANK, "south.dev", 15, "Carys", "Evans", "completed", "interpersonal_deficits", scores=(14, 8, 9, 6)),
)  # fmt: skip


@dataclass
class SeedReport:
    created_patients: int = 0
    clinics: list[Clinic] = field(default_factory=list)
    portal_patient: Patient | None = None


def _background_plans(spec, clinic: Clinic, staff: dict) -> list[PatientPlan]:
    return [
        PatientPlan(
            clinic=clinic,
            therapist=staff[patient.therapist],
            record_number=f"{spec.prefix}-{patient.number:04d}",
            first_name=patient.first_name,
            last_name=patient.last_name,
            outcome=patient.outcome,
            area=patient.area,
            seed=f"{spec.slug}:story:{patient.number}",
            unsigned_old_note=patient.unsigned_old_note,
            no_show=patient.no_show,
            failed_reminder=patient.failed_reminder,
            generated=False,
            scores=patient.scores,
        )
        for patient in BACKGROUND
        if patient.clinic == spec
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
                first_name=rng.choice(generator.FIRST_NAMES),
                last_name=rng.choice(generator.LAST_NAMES),
                outcome=rng.choices(generator.OUTCOMES, generator.OUTCOME_WEIGHTS)[0],
                area=rng.choice(tuple(generator.AREA_TEXT)),
                seed=f"{spec.slug}:patient:{number}",
            )
        )
    return plans


def seed_demo(*, scale: int = 0, stdout=None) -> SeedReport:
    """Create whatever part of the demo is missing. Safe to run any number of times; never
    under production settings (``demo.guard``)."""
    refuse_in_production()
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
        if spec == NORTHGATE:
            told = tell_stories(clinic=clinic, therapist=staff[TOUR_THERAPIST], real_now=now)
            report.created_patients += len(told)
        with transaction.atomic():
            existing = set(
                Patient.objects.filter(clinic=clinic).values_list("record_number", flat=True)
            )
            plans = [
                p for p in _background_plans(spec, clinic, staff) if p.record_number not in existing
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
        for start in range(have + 1, target + 1, generator.CHUNK_PATIENTS):
            stop = min(start + generator.CHUNK_PATIENTS, target + 1)
            with transaction.atomic():
                pending = Pending()
                for plan in _generated_plans(spec, clinic, staff, therapist_specs, start, stop):
                    build_patient(pending, plan, today, now)
                write(pending)
            report.created_patients += stop - start
            if stdout is not None:
                stdout.write(f"  {spec.name}: {stop - 1} of {target} generated patients")
        if report.created_patients > created_before:
            # The generated sessions were written in bulk: the therapists' attendance weeks
            # worked out again from every session of the clinic, then the dashboard's figures.
            rebuild_attendance_weeks(clinic.pk, clinic.tz)
            figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    if report.created_patients and connection.vendor == "postgresql":
        # After a bulk load, leave the tables as autovacuum would on a running database. Fresh
        # statistics: the planner would otherwise plan the caseload queries for the empty
        # tables. The visibility map: until a VACUUM marks the new pages all-visible, an
        # index-only scan (the clinic dashboard's counts) still reads every table row. VACUUM
        # cannot run inside a transaction (a test's, say): statistics alone there.
        statement = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in (
                *generator.WRITE_ORDER,
                AttendanceWeek,
                Notification,
                User,
                TherapistFigures,
            ):
                cursor.execute(f"{statement} {connection.ops.quote_name(model._meta.db_table)}")
    slug, record_number = PORTAL_PATIENT
    report.portal_patient = Patient.objects.filter(
        clinic__slug=slug, record_number=record_number
    ).first()
    return report
