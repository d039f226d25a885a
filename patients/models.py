"""Patients, their interpersonal inventory (relationships, life events) and portal links.

Every table carries ``clinic`` (copied from the patient when the row is made) and every
composite index starts with it: clinic isolation is one filter, checked everywhere.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message (SMS)"
    NONE = "none", "No reminders"


class Language(models.TextChoices):
    """The languages the patient portal and the patient's notices are written in (settings
    LANGUAGES). Staff pages stay in the clinic's language whatever the patient's."""

    ENGLISH = "en-gb", "English"
    SPANISH = "es", "Spanish (español)"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"
    ARCHIVED = "archived", "Archived"


class Patient(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="patients")
    primary_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patients"
    )
    record_number = models.CharField("clinic record number", max_length=40)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    reminder_consent = models.BooleanField("consents to reminders", default=False)
    language = models.CharField(
        "language",
        max_length=10,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="The portal and the reminders the patient receives are in this language.",
    )
    reminder_consent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    discharged_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "record_number"], name="patient_record_number_unique_per_clinic"
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "primary_therapist", "status"]),
            models.Index(fields=["clinic", "status", "last_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.record_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class RelationshipKind(models.TextChoices):
    PARTNER = "partner", "Partner / spouse"
    EX_PARTNER = "ex_partner", "Former partner"
    PARENT = "parent", "Parent"
    CHILD = "child", "Child"
    SIBLING = "sibling", "Sibling"
    OTHER_FAMILY = "family", "Other family"
    FRIEND = "friend", "Friend"
    COLLEAGUE = "colleague", "Colleague / fellow student"
    NEIGHBOUR = "neighbour", "Neighbour / community"
    PROFESSIONAL = "professional", "Professional (GP, teacher, carer)"
    OTHER = "other", "Other"


class ExpectationsMet(models.TextChoices):
    YES = "yes", "Met"
    PARTLY = "partly", "Partly met"
    NO = "no", "Not met"
    UNKNOWN = "unknown", "Not yet explored"


class Ring(models.IntegerChoices):
    INNER = 1, "1 — closest"
    MIDDLE = 2, "2 — close"
    OUTER = 3, "3 — less close"


class Relationship(models.Model):
    """One significant person in the interpersonal inventory."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="relationships")
    name = models.CharField("name or alias", max_length=120)
    kind = models.CharField("relationship", max_length=20, choices=RelationshipKind.choices)
    ring = models.PositiveSmallIntegerField(
        "closeness ring",
        choices=Ring.choices,
        default=Ring.MIDDLE,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    contact_frequency = models.CharField("how often in contact", max_length=120, blank=True)
    shared_activities = models.TextField("what they do together", blank=True)
    satisfying = models.TextField("what is satisfying", blank=True)
    unsatisfying = models.TextField("what is not satisfying", blank=True)
    patient_expectations = models.TextField("what the patient expects of them", blank=True)
    their_expectations = models.TextField("what they expect of the patient", blank=True)
    expectations_met = models.CharField(
        max_length=10, choices=ExpectationsMet.choices, default=ExpectationsMet.UNKNOWN
    )
    disputes = models.TextField("disputes and how they end", blank=True)
    knows_about_depression = models.BooleanField(null=True, blank=True)
    wants_to_change = models.TextField("what the patient would like to change", blank=True)
    changed_near_onset = models.BooleanField("changed near symptom onset", default=False)
    change_when = models.CharField("when it changed", max_length=120, blank=True)
    is_support = models.BooleanField("a source of support", default=False)
    # A person who has died stays who they were to the patient ("mother, died 2025"): death
    # is a state of the person, not a kind of relationship. The date may be unknown.
    deceased = models.BooleanField("has died", default=False)
    died_on = models.DateField("died on", null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ring", "name", "id"]
        indexes = [models.Index(fields=["clinic", "patient", "removed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(died_on__isnull=True) | models.Q(deceased=True),
                name="relationship_died_on_only_if_deceased",
                violation_error_message="A date of death needs the person marked as died.",
            ),
        ]

    def __str__(self) -> str:
        if self.deceased:
            died = f", died {self.died_on.year}" if self.died_on else ", died"
            return f"{self.name} ({self.get_kind_display().lower()}{died})"
        return f"{self.name} ({self.get_kind_display()})"


class RelationshipRevision(models.Model):
    """The circle as it stood: one row each time a person is added, moved or removed.

    The circle at any moment is the latest revision per person before that moment, so a
    course's closing circle can be compared with its opening one.
    """

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="relationship_revisions"
    )
    relationship = models.ForeignKey(
        Relationship, on_delete=models.PROTECT, related_name="revisions"
    )
    recorded_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    ring = models.PositiveSmallIntegerField(choices=Ring.choices)
    is_support = models.BooleanField(default=False)
    deceased = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["clinic", "patient", "recorded_at"])]


class MoodEffect(models.IntegerChoices):
    MUCH_WORSE = -2, "Mood much worse"
    WORSE = -1, "Mood worse"
    NONE = 0, "No change in mood"
    BETTER = 1, "Mood better"
    MUCH_BETTER = 2, "Mood much better"


class LifeEvent(models.Model):
    """A point on the interpersonal timeline: what happened, who was involved, what it did to mood."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="life_events")
    occurred_on = models.DateField()
    description = models.CharField(max_length=300)
    relationship = models.ForeignKey(
        Relationship,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="life_events",
        verbose_name="person involved",
    )
    mood_effect = models.SmallIntegerField(choices=MoodEffect.choices, default=MoodEffect.NONE)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_on", "id"]
        indexes = [models.Index(fields=["clinic", "patient", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.occurred_on}: {self.description}"


class PortalLink(models.Model):
    """A patient's personal portal link. Only the SHA-256 of the token is stored."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="portal_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty while the course is running."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinic", "patient", "revoked_at"])]
