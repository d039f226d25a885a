"""The discharge letter to the patient's GP or referrer at the end of a course.

A letter is drafted from the record (``letters.drafting``), edited by the course's therapist
and then signed. Like a session note, a signed letter never changes again: a correction is a
new letter that ``supersedes`` it, drafted afresh and signed in its turn. Letters are never
deleted.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class RecipientRole(models.TextChoices):
    GP = "gp", "GP"
    REFERRER = "referrer", "Referrer"
    OTHER = "other", "Other"


TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame"}


class DischargeLetter(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        "phases.TreatmentCourse", on_delete=models.PROTECT, related_name="discharge_letters"
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    recipient_name = models.CharField("recipient's name", max_length=200, blank=True)
    recipient_role = models.CharField(
        "recipient's role",
        max_length=10,
        choices=RecipientRole.choices,
        default=RecipientRole.GP,
    )
    recipient_address = models.TextField("practice and address", blank=True)
    # The letter's sections, drafted from the record and then edited by the therapist.
    course_summary = models.TextField("the course", blank=True)
    problem_areas = models.TextField("problem areas", blank=True)
    formulation = models.TextField("formulation", blank=True)
    outcome = models.TextField("scores at the start and the end", blank=True)
    warning_signs = models.TextField("warning signs of relapse", blank=True)
    recommendations = models.TextField(blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    SECTIONS = (
        "course_summary",
        "problem_areas",
        "formulation",
        "outcome",
        "warning_signs",
        "recommendations",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One draft at a time per course: a second would leave two versions of the truth.
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(signed_at__isnull=True),
                name="one_draft_letter_per_course",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "course"])]

    def __str__(self) -> str:
        return f"Discharge letter for {self.course.patient}"

    @property
    def salutation(self) -> str:
        """What follows "Dear": a titled name as British letters address it ("Dr Helen Marsh"
        -> "Dr Marsh"), any other name as written, "colleague" when there is none."""
        words = self.recipient_name.split()
        if not words:
            return "colleague"
        if len(words) > 2 and words[0].rstrip(".").lower() in TITLES:
            return f"{words[0]} {words[-1]}"
        return " ".join(words)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def delete(self, *args, **kwargs):
        raise RuntimeError("Discharge letters are clinical records and are never deleted.")


def letter_section_label(name: str) -> str:
    """A section's heading in the letter, as its field names it."""
    return str(DischargeLetter._meta.get_field(name).verbose_name).capitalize()
