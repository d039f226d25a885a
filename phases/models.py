"""The IPT treatment course: contract, problem areas, goals, formulation, the four phases,
the relapse-prevention plan. The rules that move a course between phases live in
``phases.services``; nothing here changes state on its own.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Phase(models.TextChoices):
    INITIAL = "initial", "Initial assessment"
    SOCIAL = "social", "Social assessment"
    PROBLEM_SOLVING = "problem_solving", "Problem-solving strategies"
    TERMINATION = "termination", "Termination / relapse prevention"
    COMPLETED = "completed", "Completed"
    # Maintenance IPT's own first phase (``MAINTENANCE_PHASE_ORDER``); sessions keep the
    # acute phases for their notes (``SESSION_PHASES``).
    MAINTENANCE = "maintenance", "Maintenance"


PHASE_ORDER = [
    Phase.INITIAL,
    Phase.SOCIAL,
    Phase.PROBLEM_SOLVING,
    Phase.TERMINATION,
    Phase.COMPLETED,
]
# Maintenance IPT (IPT-M): monthly sessions that keep the gains of a completed course, then
# an ending that is the manual's termination (gains reviewed, the relapse plan brought up to
# date), then completed.
MAINTENANCE_PHASE_ORDER = [Phase.MAINTENANCE, Phase.TERMINATION, Phase.COMPLETED]
# The phases a session's note can be in: a maintenance session works on the problem areas as
# the middle phase does, and its note is the middle phase's (sessions.services.note_start).
SESSION_PHASES = [(value, label) for value, label in Phase.choices if value != Phase.MAINTENANCE]


class CourseType(models.TextChoices):
    ACUTE = "acute", "IPT"
    MAINTENANCE = "maintenance", "Maintenance IPT (IPT-M)"


# The contract's number of sessions: an acute course of IPT is brief (the manual's 12 to 16,
# with room either side); a maintenance contract runs monthly for up to three years.
PLANNED_SESSIONS = {CourseType.ACUTE: (8, 20), CourseType.MAINTENANCE: (6, 36)}


def phase_order(course) -> list[str]:
    """The phases ``course`` moves through, in order, by its type."""
    if course.course_type == CourseType.MAINTENANCE:
        return MAINTENANCE_PHASE_ORDER
    return PHASE_ORDER


class CourseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DROPPED_OUT = "dropped_out", "Dropped out"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    TWICE_WEEKLY = "twice_weekly", "Twice a week"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"


class EndingDecision(models.TextChoices):
    CONTINUE = "continue_ipt", "Continue or extend IPT"
    MEDICATION_REVIEW = "medication_review", "Medication review"
    REFERRAL = "referral", "Referral elsewhere"
    MAINTENANCE = "maintenance_ipt", "Maintenance IPT"
    NONE = "none", "None (with a reason)"


class TreatmentCourse(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses"
    )
    status = models.CharField(
        max_length=12, choices=CourseStatus.choices, default=CourseStatus.ACTIVE
    )
    course_type = models.CharField(
        "type of course", max_length=12, choices=CourseType.choices, default=CourseType.ACUTE
    )
    # A maintenance course: the completed acute course it carries on from.
    maintenance_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="maintenance_courses",
        verbose_name="maintenance of",
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.INITIAL)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    start_date = models.DateField()
    # The treatment contract. The limits of each type of course are checked in ``clean``.
    planned_sessions = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(6), MaxValueValidator(36)]
    )
    frequency = models.CharField(max_length=15, choices=Frequency.choices, default=Frequency.WEEKLY)
    session_minutes = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(15), MaxValueValidator(180)]
    )
    contract_agreed_on = models.DateField(null=True, blank=True)
    target_diagnosis = models.CharField(max_length=200, blank=True)
    sick_role_note = models.TextField("sick role", blank=True)
    formulation = models.TextField("interpersonal formulation", blank=True)
    formulation_agreed_on = models.DateField(null=True, blank=True)
    # The formulation as the patient reads it (plain words, a draft until it is shared:
    # ``FormulationShare`` keeps each wording shared).
    patient_formulation = models.TextField("the formulation in the patient's words", blank=True)
    # Figures kept by the sessions layer when measures are entered, so the phase rules
    # and the caseload pages read them without reaching up into that layer.
    baseline_phq9 = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_gad7 = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_phq9 = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_phq9_at = models.DateTimeField(null=True, blank=True)
    latest_gad7 = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_wsas = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_wsas = models.PositiveSmallIntegerField(null=True, blank=True)
    # Kept by the sessions layer whenever attendance is recorded (sessions.attendance): the
    # number of attended sessions and the start of the last two, so that the clinic
    # dashboard's course figures are read from the course alone. The second is enough to
    # tell whether two attended sessions have taken place since a given moment.
    sessions_attended = models.PositiveSmallIntegerField(default=0, editable=False)
    last_attended_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_attended_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    # The initial assessment asks whether medication and a referral elsewhere were weighed
    # (severity, preference, risk), and records what was decided.
    medication_considered = models.BooleanField("medication considered", default=False)
    referral_considered = models.BooleanField("referral elsewhere considered", default=False)
    medication_referral_notes = models.TextField(
        "what was decided about medication and referral", blank=True
    )
    # A decided ending (phases.services.course_advance into completed): what comes next for
    # a patient whose PHQ-9 did not fall by half; optional for one who responded.
    ending_decision = models.CharField(
        "what comes next", max_length=20, choices=EndingDecision.choices, blank=True
    )
    ending_decision_reason = models.TextField("why", blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="one_active_course_per_patient",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "therapist", "status", "phase"]),
            models.Index(fields=["clinic", "status", "phase"]),
            models.Index(fields=["clinic", "patient", "status"]),
            # The clinic dashboard's per-therapist course figures (caseload.dashboard_selectors)
            # read a clinic's active courses from this index alone on PostgreSQL: every column
            # its conditions name is here.
            models.Index(
                fields=["clinic", "therapist"],
                include=[
                    "id",
                    "status",
                    "phase",
                    "start_date",
                    "planned_sessions",
                    "sessions_attended",
                    "last_attended_at",
                    "previous_attended_at",
                    "latest_phq9_at",
                ],
                condition=Q(status="active"),
                name="active_course_figures_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_course_type_display()} course for {self.patient} from {self.start_date}"

    def clean(self) -> None:
        super().clean()
        low, high = PLANNED_SESSIONS.get(self.course_type, PLANNED_SESSIONS[CourseType.ACUTE])
        if self.planned_sessions is not None and not low <= self.planned_sessions <= high:
            kind = "A maintenance contract" if self.is_maintenance else "A course of IPT"
            raise ValidationError(
                {"planned_sessions": f"{kind} is contracted for {low} to {high} sessions."}
            )

    @property
    def is_maintenance(self) -> bool:
        return self.course_type == CourseType.MAINTENANCE


class ProblemAreaKind(models.TextChoices):
    GRIEF = "grief", "Grief"
    ROLE_DISPUTE = "role_dispute", "Role dispute"
    ROLE_TRANSITION = "role_transition", "Role transition"
    DEFICITS = "interpersonal_deficits", "Interpersonal deficits / sensitivity"


class DisputeStage(models.TextChoices):
    IMPASSE = "impasse", "Impasse"
    RENEGOTIATION = "renegotiation", "Renegotiation"
    DISSOLUTION = "dissolution", "Dissolution"


class Mourning(models.TextChoices):
    NORMAL = "normal", "Normal mourning"
    COMPLICATED = "complicated", "Complicated (delayed, distorted or chronic)"


class ProblemArea(models.Model):
    """One agreed problem area, with the manual's fields for its kind."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="problem_areas"
    )
    kind = models.CharField(max_length=30, choices=ProblemAreaKind.choices)
    is_primary = models.BooleanField(default=True)
    # Grief: the person who died is a person of the inventory marked as died.
    deceased = models.ForeignKey(
        "patients.Relationship",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="who died",
    )
    relationship_reconstructed = models.TextField(
        "the relationship with them, reconstructed",
        blank=True,
        help_text="What they did together, the good and the disappointing, as the patient "
        "tells it now.",
    )
    mourning = models.CharField(max_length=12, choices=Mourning.choices, blank=True)
    mourning_status = models.CharField("how the mourning shows", max_length=200, blank=True)
    anniversaries = models.TextField(
        "anniversaries", blank=True, help_text="Dates that may be hard: the death, birthdays."
    )
    # Role dispute: the other party is a living person of the inventory. ``dispute_stage``
    # is the stage now, the latest of its ``stage_entries``.
    other_party = models.ForeignKey(
        "patients.Relationship",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="the other party",
    )
    dispute_stage = models.CharField(max_length=15, choices=DisputeStage.choices, blank=True)
    non_reciprocal_expectations = models.TextField(
        "non-reciprocal expectations",
        blank=True,
        help_text="What each expects of the other that the other does not share.",
    )
    dispute_options = models.TextField("options the patient sees", blank=True)
    # Role transition
    old_role = models.CharField(max_length=200, blank=True)
    new_role = models.CharField(max_length=200, blank=True)
    transition_date = models.DateField("when the transition happened", null=True, blank=True)
    old_role_losses = models.TextField("the old role: what is lost with it", blank=True)
    old_role_gains = models.TextField("the old role: what leaving it gains", blank=True)
    new_role_losses = models.TextField("the new role: what it costs", blank=True)
    new_role_gains = models.TextField("the new role: what it offers", blank=True)
    new_role_skills = models.TextField("skills the new role needs", blank=True)
    new_role_supports = models.TextField("supports the new role needs", blank=True)
    # Interpersonal deficits / sensitivity
    social_isolation = models.TextField(
        "social isolation",
        blank=True,
        help_text="How few and how distant the patient's relationships are, and since when.",
    )
    # Any kind
    notes = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["clinic", "course", "kind"])]

    def __str__(self) -> str:
        return self.get_kind_display()


class DisputeStageEntry(models.Model):
    """The stage of a role dispute as recorded at one middle-phase session: the dispute's
    history, drawn on the course page. The latest entry's stage is the area's
    ``dispute_stage``."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="+")
    problem_area = models.ForeignKey(
        ProblemArea, on_delete=models.PROTECT, related_name="stage_entries"
    )
    stage = models.CharField(max_length=15, choices=DisputeStage.choices)
    recorded_on = models.DateField("date")
    # The session it was recorded at, when recorded from one. Sessions sit above phases: an
    # id, as the outbox keeps what a notice is about.
    session_id = models.BigIntegerField(null=True, blank=True)
    note = models.TextField("what showed the stage", blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_on", "at", "id"]
        indexes = [models.Index(fields=["clinic", "course", "recorded_on"])]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} on {self.recorded_on}"


class GoalStatus(models.TextChoices):
    OPEN = "open", "Working on it"
    ACHIEVED = "achieved", "Achieved"
    PARTLY = "partly", "Partly achieved"
    NOT_ACHIEVED = "not_met", "Not achieved"
    DROPPED = "dropped", "Set aside"


class Goal(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="goals")
    problem_area = models.ForeignKey(ProblemArea, on_delete=models.PROTECT, related_name="goals")
    text = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN)
    progress = models.PositiveSmallIntegerField(
        "progress (0-10)", default=0, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["clinic", "course", "status"])]

    def __str__(self) -> str:
        return self.text


class TransitionKind(models.TextChoices):
    FORWARD = "forward", "Moved forward"
    BACK = "back", "Moved back"
    DROPPED_OUT = "dropped_out", "Ended: dropped out"
    STARTED = "started", "Course started"


class PhaseTransition(models.Model):
    """The course's timeline: every phase change, who made it, when and why."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="transitions"
    )
    kind = models.CharField(max_length=12, choices=TransitionKind.choices)
    from_phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=20, choices=Phase.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    overridden = models.BooleanField(default=False)
    failed_criteria = models.JSONField(default=list, blank=True)
    checklist = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["clinic", "course", "at"])]


class RelapsePreventionPlan(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.OneToOneField(
        TreatmentCourse, on_delete=models.PROTECT, related_name="relapse_plan"
    )
    warning_signs = models.TextField(help_text="Early signs that depression may be coming back.")
    coping_strategies = models.TextField(
        help_text="What helped during treatment and will help again."
    )
    supports = models.ManyToManyField(
        "patients.Relationship", blank=True, related_name="+", verbose_name="people to turn to"
    )
    if_symptoms_return = models.TextField("what to do if symptoms return")
    maintenance_offered = models.BooleanField("maintenance sessions offered", default=False)
    maintenance_notes = models.TextField(blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class FocusDecision(models.TextChoices):
    KEPT = "kept", "Focus kept"
    CHANGED = "changed", "Focus changed"


class MidCourseReview(models.Model):
    """The review at the contract's halfway session: the scores against baseline and the
    goals as they stood (snapshots), whether the focus is kept, and the plan for the
    sessions left. One per course."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="mid_course_reviews"
    )
    # The session it was held at, when known (an id: sessions sit above phases), and the
    # number of sessions held by then against the contract.
    session_id = models.BigIntegerField(null=True, blank=True)
    sessions_held = models.PositiveSmallIntegerField()
    planned_sessions = models.PositiveSmallIntegerField()
    baseline_phq9 = models.PositiveSmallIntegerField(null=True, blank=True)
    phq9 = models.PositiveSmallIntegerField("PHQ-9 at the review", null=True, blank=True)
    baseline_gad7 = models.PositiveSmallIntegerField(null=True, blank=True)
    gad7 = models.PositiveSmallIntegerField("GAD-7 at the review", null=True, blank=True)
    # [{"id", "text", "status", "progress"}] for each live goal at the review.
    goals = models.JSONField(default=list, blank=True)
    goals_progress = models.TextField("the goals' progress")
    focus = models.CharField(max_length=10, choices=FocusDecision.choices)
    focus_reason = models.TextField("why")
    plan = models.TextField("plan for the remaining sessions")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course"], name="one_mid_course_review_per_course")
        ]
        indexes = [models.Index(fields=["clinic", "course"])]


class MaintenanceBooster(models.Model):
    """A session added to a maintenance contract because warning signs came back: which sign
    (``warning_sign``, as the relapse plan words it, or in the clinician's words; empty when
    none was named, which the course's fidelity flags show) and the session booked for it."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="boosters")
    # The session booked (an id: sessions sit above phases, as the outbox keeps what a notice
    # is about).
    session_id = models.BigIntegerField(null=True, blank=True)
    warning_sign = models.CharField("the warning sign that returned", max_length=300, blank=True)
    note = models.TextField("what the patient noticed", blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["clinic", "course", "at"])]

    def __str__(self) -> str:
        return f"Booster: {self.warning_sign or 'no warning sign named'}"


class FormulationShare(models.Model):
    """The formulation in the patient's words, as shared with them in the portal: what they
    read, who shared it and when, and when it stopped being shared (withdrawn, or replaced by
    a new wording). At most one is shared at a time; rows are kept, never changed back."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="formulation_shares"
    )
    text = models.TextField("the formulation in the patient's words")
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField()
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shared_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_shared_formulation_per_course",
            )
        ]
        indexes = [models.Index(fields=["clinic", "course", "shared_at"])]

    def __str__(self) -> str:
        return f"Formulation shared on {self.shared_at:%Y-%m-%d}"


class FormulationAnswerKind(models.TextChoices):
    AGREE = "agree", "I agree"
    TALK = "talk", "I'd like to talk about this"


class FormulationAnswer(models.Model):
    """The patient's answer, in the portal, to one shared wording of their formulation. A
    new wording asks again; earlier answers are kept."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="formulation_answers"
    )
    share = models.ForeignKey(FormulationShare, on_delete=models.PROTECT, related_name="answers")
    answer = models.CharField(max_length=10, choices=FormulationAnswerKind.choices)
    comment = models.TextField(blank=True, max_length=2000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["clinic", "course", "at"])]

    def __str__(self) -> str:
        return f"{self.get_answer_display()} ({self.at:%Y-%m-%d})"
