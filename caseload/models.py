"""The clinic dashboard's kept figures: one row per therapist and one per clinic.

The dashboard reads a page of ``TherapistFigures`` (sorted by any figure through its index)
and the clinic's ``ClinicFigures`` instead of counting the clinic's courses, sessions, notes
and scores on every request, so its time does not grow with the clinic. How the rows stay
right is in ``caseload.figures``.
"""

from django.conf import settings
from django.db import models


class CaseloadCounts(models.Model):
    """The figures a therapist's row and the clinic's totals share. The field names are the
    dashboard's metric keys (``caseload.dashboard_selectors.METRICS``); the no-show rate is
    worked out from ``attended_recent`` and ``no_show_recent``."""

    active = models.PositiveIntegerField(default=0)
    phase_initial = models.PositiveIntegerField(default=0)
    phase_social = models.PositiveIntegerField(default=0)
    phase_problem_solving = models.PositiveIntegerField(default=0)
    phase_termination = models.PositiveIntegerField(default=0)
    sessions_week = models.PositiveIntegerField(default=0)
    attended_recent = models.PositiveIntegerField(default=0)
    no_show_recent = models.PositiveIntegerField(default=0)
    unsigned_notes = models.PositiveIntegerField(default=0)
    no_session_14 = models.PositiveIntegerField(default=0)
    past_planned = models.PositiveIntegerField(default=0)
    risk_open = models.PositiveIntegerField(default=0)
    phq9_overdue = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


COUNT_FIELDS = [
    "active",
    "phase_initial",
    "phase_social",
    "phase_problem_solving",
    "phase_termination",
    "sessions_week",
    "attended_recent",
    "no_show_recent",
    "unsigned_notes",
    "no_session_14",
    "past_planned",
    "risk_open",
    "phq9_overdue",
]
# The figures the therapist table sorts by (besides the name), each with an index.
SORTED_FIELDS = [name for name in COUNT_FIELDS if name not in ("attended_recent", "no_show_recent")]


def _sort_indexes() -> list[models.Index]:
    indexes = [
        models.Index(fields=["clinic", name, "sort_name", "therapist"], name=f"tf_{name}")
        for name in SORTED_FIELDS
    ]
    indexes += [
        models.Index(fields=["clinic", "sort_name", "therapist"], name="tf_name"),
        models.Index(fields=["clinic", "rate_rising", "sort_name", "therapist"], name="tf_rate"),
        models.Index(
            fields=["clinic", "rate_falling", "sort_name", "therapist"], name="tf_rate_down"
        ),
    ]
    return indexes


class TherapistFigures(CaseloadCounts):
    """One therapist's figures in one clinic (also for someone who is not a therapist there
    but still has courses, sessions or notes of the clinic to their name).

    ``valid_until`` empty: to be worked out again (a service changed what the row counts, or
    the row is new); otherwise the first moment at which a figure changes with time alone (a
    note passing 48 hours, a PHQ-9 turning 14 days old, the next week)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=300, blank=True)
    sort_name = models.CharField(max_length=300, blank=True)
    deactivated = models.BooleanField(default=False)
    no_show_rate = models.FloatField(null=True, blank=True)
    # The rate as the table sorts it, rows without one last both ways: (SQLite cannot write
    # NULLS LAST into an index) 2 stands for none going up, -1 going down.
    rate_rising = models.FloatField(default=2)
    rate_falling = models.FloatField(default=-1)
    # The oldest open risk flag among the therapist's courses (when it was raised).
    risk_oldest_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # Empty until the row is first worked out: until then it counts in no total.
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "therapist figures"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "therapist"], name="tf_one_row_per_therapist")
        ]
        indexes = [
            models.Index(fields=["clinic", "valid_until"], name="tf_stale"),
            models.Index(fields=["clinic", "risk_oldest_at"], name="tf_risk_oldest"),
            *_sort_indexes(),
        ]

    def __str__(self) -> str:
        return f"Figures of {self.name or self.therapist_id}"


class ClinicFigures(CaseloadCounts):
    """The clinic's totals: the sum of its worked-out therapist rows, kept by adding each
    row's change as it is worked out (``caseload.figures``)."""

    clinic = models.OneToOneField(
        "accounts.Clinic", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    rows = models.PositiveIntegerField(default=0)
    risk_oldest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "clinic figures"

    def __str__(self) -> str:
        return f"Figures of clinic {self.clinic_id}"
