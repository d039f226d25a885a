from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

from ipt_clinic.phones import PhoneLine, validate_phone
from ipt_clinic.quiet_hours import quiet_hours_problem


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (KeyError, ValueError) as exc:
        raise ValidationError(
            f"“{value}” is not a known time zone: choose one by its IANA name, such as "
            "Europe/London or America/New_York."
        ) from exc


# A new clinic starts from the process-wide settings (ipt_clinic/settings), read when the
# clinic is made, not when the migration was written.
def default_time_zone() -> str:
    return settings.TIME_ZONE


def default_reminder_lead_hours() -> int:
    return settings.CLINIC_REMINDER_LEAD_HOURS


def default_quiet_hours_start() -> time:
    return settings.CLINIC_QUIET_HOURS[0]


def default_quiet_hours_end() -> time:
    return settings.CLINIC_QUIET_HOURS[1]


def default_escalation_minutes() -> int:
    return settings.RISK_ESCALATION_MINUTES


REMINDER_LEAD_HOURS_MAX = 7 * 24
ESCALATION_MINUTES_MIN, ESCALATION_MINUTES_MAX = 15, 24 * 60


def minutes_label(minutes: int) -> str:
    """``240`` as "4 hours", ``90`` as "1 hour 30 minutes"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} minutes"
    text = f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{text} {rest} minutes" if rest else text


@dataclass(frozen=True, slots=True)
class DutyContact:
    """Who is told of a risk flag besides the treating therapist, and how: by email, by text
    message, or both. ``staff_id`` is the member of staff it stands for, if any."""

    name: str
    email: str
    phone: str
    staff_id: int | None


class Clinic(models.Model):
    """A clinic and its own settings, which its clinic admins change on the Settings page.

    Read them through the accessors below (``tz``, ``reminder_lead``, ``escalation_window``,
    ``emergency_line``, ``crisis_line``, ``clinic_line``, ``duty_contact``,
    ``sender_display_name``): they fill a blank field in from the process-wide default.
    ``version`` guards the settings form against two admins saving over each other
    (``ipt_clinic.editing``)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        "time zone", max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    reminder_lead_hours = models.PositiveSmallIntegerField(
        "reminder lead time (hours)",
        default=default_reminder_lead_hours,
        validators=[MinValueValidator(1), MaxValueValidator(REMINDER_LEAD_HOURS_MAX)],
        help_text="How long before a session its reminder is sent.",
    )
    quiet_hours_start = models.TimeField(
        "quiet hours from", default=default_quiet_hours_start, help_text="No SMS from this time…"
    )
    quiet_hours_end = models.TimeField(
        "quiet hours until", default=default_quiet_hours_end, help_text="…until this time."
    )
    sender_name = models.CharField("sender name", max_length=200, blank=True)
    sender_email = models.EmailField(blank=True)
    phone = models.CharField(
        "clinic phone",
        max_length=40,
        blank=True,
        validators=[validate_phone],
        help_text="Shown to patients: who to call.",
    )
    # Risk flags: who hears of one besides the treating therapist, and when it is raised again.
    duty_staff = models.ForeignKey(
        "User",
        verbose_name="duty member of staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A member of staff on duty; the name, email and phone below override theirs.",
    )
    duty_name = models.CharField("duty contact's name", max_length=200, blank=True)
    duty_email = models.EmailField("duty contact's email", blank=True)
    duty_phone = models.CharField(
        "duty contact's mobile", max_length=40, blank=True, validators=[validate_phone]
    )
    escalation_minutes = models.PositiveIntegerField(
        "escalation window (minutes)",
        default=default_escalation_minutes,
        validators=[
            MinValueValidator(ESCALATION_MINUTES_MIN),
            MaxValueValidator(ESCALATION_MINUTES_MAX),
        ],
        help_text="A risk flag not acknowledged this long alerts the clinic admins and the "
        "duty contact again.",
    )
    # What a patient is told to call; blank: the process-wide default.
    emergency_number = models.CharField(
        "emergency number", max_length=20, blank=True, validators=[validate_phone]
    )
    crisis_line_name = models.CharField("crisis line's name", max_length=100, blank=True)
    crisis_line_number = models.CharField(
        "crisis line's number", max_length=40, blank=True, validators=[validate_phone]
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        problem = quiet_hours_problem(self.quiet_hours_start, self.quiet_hours_end)
        if problem:
            errors["quiet_hours_start"] = problem
        if self.crisis_line_name.strip() and not self.crisis_line_number.strip():
            errors["crisis_line_number"] = "Give the crisis line's number too, or clear its name."
        if self.duty_staff_id is not None and (
            self.duty_staff is None
            or self.duty_staff.clinic_id != self.pk
            or not self.duty_staff.is_active
        ):
            errors["duty_staff"] = "Choose an active member of this clinic's staff."
        has_duty = self.duty_staff_id or self.duty_name or self.duty_email or self.duty_phone
        if has_duty and not (self.duty_staff_id or self.duty_name.strip()):
            errors["duty_name"] = (
                "Name the duty contact (a person or a duty line), or choose a member of staff."
            )
        if has_duty and not (self.duty_staff_id or self.duty_email or self.duty_phone):
            errors["duty_email"] = (
                "Give the duty contact an email address or a phone number for text messages."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def reminder_lead(self) -> timedelta:
        """How long before a session its reminder is due."""
        return timedelta(hours=self.reminder_lead_hours)

    @property
    def escalation_window(self) -> timedelta:
        """How long a risk flag may stay unacknowledged before it is raised again."""
        return timedelta(minutes=self.escalation_minutes)

    @property
    def escalation_window_label(self) -> str:
        return minutes_label(self.escalation_minutes)

    @property
    def emergency_line(self) -> PhoneLine:
        return PhoneLine(
            "Emergency services", self.emergency_number or settings.PORTAL_EMERGENCY_NUMBER
        )

    @property
    def crisis_line(self) -> PhoneLine | None:
        """The clinic's crisis line, else the process-wide one; None when neither has one."""
        if self.crisis_line_number:
            return PhoneLine(self.crisis_line_name or _("Crisis line"), self.crisis_line_number)
        if settings.PORTAL_CRISIS_LINE_NUMBER:
            return PhoneLine(
                settings.PORTAL_CRISIS_LINE_NAME or _("Crisis line"),
                settings.PORTAL_CRISIS_LINE_NUMBER,
            )
        return None

    @property
    def clinic_line(self) -> PhoneLine | None:
        return PhoneLine(self.name, self.phone) if self.phone else None

    @property
    def duty_contact(self) -> DutyContact | None:
        """Who to alert besides the treating therapist: the duty member of staff (while they
        are active) with the typed name, email and phone taking precedence; None when no one
        can be reached. Reads the staff member's row (one query) when one is chosen."""
        staff = self.duty_staff if self.duty_staff_id is not None else None
        if staff is not None and not (staff.is_active and staff.deactivated_at is None):
            staff = None
        email = self.duty_email or (staff.email if staff is not None else "")
        if not (email or self.duty_phone):
            return None
        return DutyContact(
            name=self.duty_name or (staff.display_name if staff is not None else "Duty contact"),
            email=email,
            phone=self.duty_phone,
            staff_id=staff.pk if staff is not None else None,
        )

    @property
    def sender_display_name(self) -> str:
        """The name patients' mail comes from."""
        return self.sender_name or self.name


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
    # For alerts about a patient's safety (a text message beside the email); blank for none.
    mobile = models.CharField("mobile for urgent alerts", max_length=40, blank=True)
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
