"""The demo's clinics and staff, the logins it prints, and the demo patient's portal link."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from ipt_clinic.accounts.models import Clinic, Role, User
from patients.models import Patient, PortalLink
from patients.portal_links import hash_token, portal_link_create, portal_link_url
from phases.models import TreatmentCourse
from sessions.models import Assignment, Measure, TherapySession

from .guard import refuse_in_production

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the published password of fictional demo staff  # nosec B105
BATCH_SIZE = 2000


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
    prefix: str  # record numbers: NG-0001 (named patients), NG-B000001 (generated)
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

# The logins the front door shows: one per role, the therapist whose four patients are the
# hand-written stories (demo.stories) and her clinic's admin.
TOUR_THERAPIST = "north.anna"
TOUR_ADMIN = "north.admin"


def ensure_clinic(spec: ClinicSpec) -> Clinic:
    clinic, _ = Clinic.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "time_zone": spec.time_zone,
            "phone": spec.phone,
            "sender_name": spec.name,
            "sender_email": f"appointments@{spec.slug}.example.org",
            # Who is alerted, with the treating therapist, when a patient's answers raise a
            # risk flag (sessions.risk): the clinic's duty clinician line.
            "duty_name": "Duty clinician",
            "duty_email": f"duty@{spec.slug}.example.org",
            "duty_phone": "07700 900" + spec.phone[-3:],
        },
    )
    return clinic


def ensure_staff(clinic: Clinic, specs: Iterable[StaffSpec], password_hash: str) -> dict:
    """Create the staff that are missing (one bulk insert); return all of them by username."""
    refuse_in_production()
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


# --- what the commands print -------------------------------------------------------------


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


SUMMARY_HEADER = ("clinic", "staff", "patients", "courses", "sessions", "measures", "assignments")


def summary_rows() -> list[tuple[str, ...]]:
    """Counts per demo clinic and in total: the table the command prints."""
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


# --- the demo patient's portal link ------------------------------------------------------


def demo_portal_token(patient: Patient) -> str:
    """The token of the demo patient's portal link, derived from SECRET_KEY and the record
    number (an HMAC). Only a hash of a token is stored, so a random one could be printed once
    only; this one lets every run of the demo print the same working address."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"demo-portal-link:{patient.clinic_id}:{patient.record_number}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def demo_portal_url(patient: Patient | None) -> str | None:
    """A working portal link for the demo patient, the same one on every run.

    The story made the link with the derived token; if it is gone (a database seeded under
    another SECRET_KEY), the portal's own service makes one. If staff have since replaced the
    link, theirs is the live one and its token is not ours to know: None."""
    if patient is None:
        return None
    token = demo_portal_token(patient)
    with transaction.atomic():
        link = PortalLink.objects.filter(token_hash=hash_token(token)).first()
        if link is not None and link.patient_id == patient.pk and link.revoked_at is None:
            return portal_link_url(token)
        if PortalLink.objects.filter(patient=patient, revoked_at__isnull=True).exists():
            return None
        if link is None:
            _link, url = portal_link_create(
                patient=patient, by=patient.primary_therapist, token=token
            )
        else:
            _link, url = portal_link_create(patient=patient, by=patient.primary_therapist)
        return url
