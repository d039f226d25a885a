from datetime import time
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (KeyError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known time zone.") from exc


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    reminder_lead_hours = models.PositiveSmallIntegerField(
        default=24, help_text="How long before a session its reminder is sent."
    )
    quiet_hours_start = models.TimeField(default=time(21, 0), help_text="No SMS from this time…")
    quiet_hours_end = models.TimeField(default=time(8, 0), help_text="…until this time.")
    sender_name = models.CharField(max_length=200, blank=True)
    sender_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, help_text="Shown to patients: who to call.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"


class User(AbstractUser):
    """A member of staff. Patients never have accounts (they use portal links)."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.THERAPIST)
    email = models.EmailField("email address", unique=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    caseload_seen_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the therapist last looked at portal activity on their home page.",
    )

    objects = UserManager()

    class Meta:
        indexes = [models.Index(fields=["clinic", "role", "is_active"])]

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class StaffSession(models.Model):
    """Which server-side sessions belong to whom, so deactivation can end them at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class ThrottleWindow(models.Model):
    """A login throttle's window (``ipt_clinic.accounts.throttle``) kept in the database while
    the shared cache cannot be reached: failures counted from ``started_at`` on, for one
    account or one client address (``key``, a digest)."""

    key = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField(db_index=True)
    failures = models.PositiveIntegerField(default=0)
