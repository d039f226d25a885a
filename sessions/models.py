"""Therapy sessions, their notes, symptom measures and homework."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from phases.models import SESSION_PHASES


class Modality(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"
    PHONE = "phone", "Phone"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ATTENDED = "attended", "Attended"
    CANCELLED_PATIENT = "cancelled_patient", "Cancelled by patient"
    CANCELLED_CLINIC = "cancelled_clinic", "Cancelled by clinic"
    NO_SHOW = "no_show", "Did not attend"


CANCELLED_STATUSES = (SessionStatus.CANCELLED_PATIENT, SessionStatus.CANCELLED_CLINIC)


class TherapySession(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        "phases.TreatmentCourse", on_delete=models.PROTECT, related_name="sessions"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="therapy_sessions"
    )
    scheduled_start = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    modality = models.CharField(max_length=10, choices=Modality.choices, default=Modality.IN_PERSON)
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    phase = models.CharField("phase at the time", max_length=20, choices=SESSION_PHASES, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_start", "id"]
        indexes = [
            models.Index(fields=["clinic", "therapist", "scheduled_start"]),
            models.Index(fields=["clinic", "course", "scheduled_start"]),
            # Ends with the therapist so that the clinic dashboard's per-therapist counts by
            # status and date read this index alone (an index-only scan on PostgreSQL).
            models.Index(fields=["clinic", "status", "scheduled_start", "therapist"]),
            # Attended sessions by course: what a course's attendance figures are worked out
            # from (sessions.attendance), and per-course attended counts elsewhere.
            models.Index(
                fields=["clinic", "course", "scheduled_start"],
                condition=Q(status=SessionStatus.ATTENDED),
                name="session_attended_by_course_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Session on {self.scheduled_start:%Y-%m-%d %H:%M} UTC"


class AttendanceWeek(models.Model):
    """One therapist's attended and did-not-attend sessions in one week of their clinic
    (Monday to Sunday, clinic time): derived from the sessions, never entered.

    The clinic dashboard's no-show rate adds up thirteen of these per therapist where it
    would otherwise count every session of the last thirteen weeks (about 30,000 at a clinic
    of 5,000 patients). ``sessions.attendance`` keeps them: a week is worked out again from
    its sessions whenever attendance is recorded in it (``session_record_attendance``, the
    only change of a session to or from attended or did-not-attend), and a whole clinic's
    weeks after a bulk load."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    week_start = models.DateField(help_text="The week's Monday, clinic time.")
    attended = models.PositiveIntegerField(default=0)
    no_show = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "therapist", "week_start"], name="attendance_week_unique"
            )
        ]
        indexes = [
            # The dashboard reads a clinic's recent weeks from this index alone on PostgreSQL.
            models.Index(
                fields=["clinic", "week_start"],
                include=["therapist", "attended", "no_show"],
                name="attendance_week_recent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Week of {self.week_start:%Y-%m-%d}: {self.attended} attended, {self.no_show} DNA"


class RiskLevel(models.TextChoices):
    NONE = "none", "No current risk identified"
    LOW = "low", "Passive thoughts, no plan"
    MODERATE = "moderate", "Active thoughts, no plan or intent"
    HIGH = "high", "Plan or intent — safety plan / escalation needed"


class Technique(models.TextChoices):
    """The techniques of IPT as its manual names them (exploratory, encouragement of affect,
    clarification, communication analysis, use of the therapeutic relationship, behaviour
    change: directive techniques, decision analysis, role play), plus two a note may record
    of the middle phase. ``LEGACY_TECHNIQUES`` were offered once and are not IPT's: they stay
    readable on the notes that recorded them, and are no longer offered."""

    EXPLORATORY = "exploratory", "Exploratory techniques"
    ENCOURAGEMENT_OF_AFFECT = "encouragement_of_affect", "Encouragement of affect"
    CLARIFICATION = "clarification", "Clarification"
    COMMUNICATION_ANALYSIS = "communication_analysis", "Communication analysis"
    THERAPEUTIC_RELATIONSHIP = "therapeutic_relationship", "Use of the therapeutic relationship"
    DIRECTIVE = "directive", "Directive techniques (advice, suggestion, education)"
    DECISION_ANALYSIS = "decision_analysis", "Decision analysis"
    ROLE_PLAY = "role_play", "Role play"
    PROBLEM_SOLVING = "problem_solving", "Interpersonal problem solving"
    SELF_REFLECTION = "self_reflection", "Self-reflection"
    ASSERTIVENESS = "assertiveness_training", "Assertiveness training (not an IPT technique)"
    COGNITIVE_RESTRUCTURING = (
        "cognitive_restructuring",
        "Cognitive restructuring (not an IPT technique)",
    )


LEGACY_TECHNIQUES = frozenset({Technique.ASSERTIVENESS, Technique.COGNITIVE_RESTRUCTURING})
#: What a note offers, in the manual's order.
OFFERED_TECHNIQUES = [(v, label) for v, label in Technique.choices if v not in LEGACY_TECHNIQUES]


class SessionNote(models.Model):
    """The structured note of one session. Which fields apply follows ``phase``.

    ``version`` is bumped on every save (optimistic locking); once ``signed_at`` is set the
    note never changes again and later words are ``NoteAddendum`` rows.
    """

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="note")
    phase = models.CharField(max_length=20, choices=SESSION_PHASES)
    # Initial assessment
    symptoms_reviewed = models.TextField(blank=True)
    sick_role = models.TextField("sick role discussed", blank=True)
    contract = models.TextField("treatment contract", blank=True)
    # Social assessment
    inventory_work = models.TextField("interpersonal inventory work", blank=True)
    formulation_discussed = models.TextField(blank=True)
    # Problem-solving strategies
    focus_problem_area = models.ForeignKey(
        "phases.ProblemArea", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    interpersonal_events = models.TextField("interpersonal events since last session", blank=True)
    techniques = models.JSONField(default=list, blank=True)
    goal_progress = models.TextField(blank=True)
    # Termination
    gains_reviewed = models.TextField(blank=True)
    feelings_about_ending = models.TextField(blank=True)
    plan_progress = models.TextField("relapse-prevention plan progress", blank=True)
    # Every phase
    homework_review = models.TextField("review of homework", blank=True)
    narrative = models.TextField("other notes", blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    risk_notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who writes and signs the note when it is not the session's therapist: named when the
    # course moved to another therapist before the note was signed (caseload reassignment).
    # Empty: the session's therapist.
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "signed_at"])]

    @property
    def writer_id(self) -> int:
        """The one person who may edit and sign this note."""
        return self.signer_id or self.session.therapist_id


class NoteRevision(models.Model):
    """Every saved version of a note (its full edit history)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["note", "version"]
        constraints = [
            models.UniqueConstraint(fields=["note", "version"], name="note_revision_unique_version")
        ]


class NoteAddendum(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Instrument(models.TextChoices):
    PHQ9 = "phq9", "PHQ-9"
    GAD7 = "gad7", "GAD-7"
    WSAS = "wsas", "WSAS"


class RiskAction(models.TextChoices):
    """What a clinician did about a risk flag, recorded when they close it."""

    CONTACTED_PATIENT = "contacted_patient", "Contacted the patient"
    SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", "Safety plan reviewed"
    EMERGENCY_SERVICES = "emergency_services", "Emergency services involved"
    OTHER = "other", "Other (say what)"


class EnteredBy(models.TextChoices):
    STAFF = "staff", "Therapist"
    PATIENT = "patient", "Patient (portal)"


class Measure(models.Model):
    """One completed questionnaire. ``total`` and ``severity`` are computed by
    ``sessions.scoring`` from ``answers``, never typed. An item the instrument's manual lets
    go unscored (the WSAS work item, for someone retired or not working for reasons unrelated
    to the problem) is None in ``answers`` and left out of ``total``."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        "phases.TreatmentCourse", on_delete=models.PROTECT, related_name="measures"
    )
    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, null=True, blank=True, related_name="measures"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    answers = models.JSONField()
    total = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=32)
    entered_by_kind = models.CharField(
        max_length=8, choices=EnteredBy.choices, default=EnteredBy.STAFF
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # PHQ-9 item 9 above 0 raises a flag: raised -> acknowledged (who, when) -> closed with
    # the action taken (``sessions.risk``). "Responded" is closed; a flag is open until then.
    risk_flag = models.BooleanField(default=False)
    risk_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Set when the flag went unacknowledged past the clinic's escalation window and the
    # clinic admins and duty contact were alerted again.
    risk_escalated_at = models.DateTimeField(null=True, blank=True)
    risk_action = models.CharField(max_length=24, choices=RiskAction.choices, blank=True)
    # What was done, in the clinician's words (the reason, for "other").
    risk_response = models.TextField(blank=True)
    risk_responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_responded_at = models.DateTimeField(null=True, blank=True)
    # The session note whose risk assessment closed the flag, when it was closed there.
    risk_closed_in_note = models.ForeignKey(
        "SessionNote", on_delete=models.PROTECT, null=True, blank=True, related_name="closed_flags"
    )
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # A corrected questionnaire (the same submission sent again with other answers) is kept
    # beside the first: the correction points at what it corrects, and the corrected one is
    # stamped superseded so that charts, figures and the risk rules read the latest answers.
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "course", "instrument", "taken_at"]),
            models.Index(
                fields=["clinic", "course"],
                condition=Q(risk_flag=True, risk_responded_at__isnull=True),
                name="measure_open_risk_idx",
            ),
            # The escalation sweep: open flags nobody has acknowledged or escalated yet.
            models.Index(
                fields=["created_at"],
                condition=Q(
                    risk_flag=True,
                    risk_responded_at__isnull=True,
                    risk_acknowledged_at__isnull=True,
                    risk_escalated_at__isnull=True,
                ),
                name="measure_unescalated_risk_idx",
            ),
        ]


class GoalReview(models.Model):
    """A goal's progress as reviewed in one session."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, related_name="goal_reviews"
    )
    goal = models.ForeignKey("phases.Goal", on_delete=models.PROTECT, related_name="reviews")
    progress = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10)
    comment = models.CharField(max_length=300, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["reviewed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "goal"], name="goal_review_once_per_session")
        ]


class AssignmentKind(models.TextChoices):
    COMMUNICATION = "communication", "Communication practice"
    ROLE_PLAY = "role_play", "Role-play rehearsal"
    LOG = "log", "Mood and interpersonal log"
    ACTIVITY = "activity", "Activity"
    READING = "reading", "Reading"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "To do"
    DONE = "done", "Done"
    NOT_DONE = "not_done", "Not done"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Assignment(models.Model):
    """Homework between sessions."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        "phases.TreatmentCourse", on_delete=models.PROTECT, related_name="assignments"
    )
    session = models.ForeignKey(
        TherapySession,
        on_delete=models.PROTECT,
        related_name="assignments_set",
        null=True,
        blank=True,
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    kind = models.CharField(max_length=15, choices=AssignmentKind.choices)
    relationship = models.ForeignKey(
        "patients.Relationship",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="person it involves",
    )
    problem_area = models.ForeignKey(
        "phases.ProblemArea", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    reflection = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reviewed_in = models.ForeignKey(
        TherapySession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_assignments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["clinic", "course", "status", "due_date"]),
            models.Index(fields=["clinic", "status", "completed_at"]),
        ]

    def __str__(self) -> str:
        return self.title


FEELING_MIN, FEELING_MAX = 0, 10


class HomeworkEntry(models.Model):
    """What the patient wrote about one piece of homework, in the questions of its kind.

    The questions by kind (the columns a kind does not use stay empty):

    * communication practice: what I said (``said``), how they responded (``response``), how
      I felt 0-10 (``feeling``), what I'd do next time (``next_time``) — the four steps of a
      communication analysis, so the next session can pick up the exchange where it was;
    * mood and interpersonal log: one entry a day (``entry_date``, unique per assignment),
      mood 0-10 (``mood``), who I spent time with (``people``), what happened
      (``happened``): read as a table by day, the mood beside the company kept is what links
      symptoms to relationships;
    * role-play rehearsal: what I rehearsed or tried (``rehearsed``), how it went
      (``how_it_went``), how I felt 0-10 (``feeling``);
    * activity: what I did (``did``), how it felt 0-10 (``feeling``)
      and, optionally, in words (``how_it_went``): a number makes the change visible over the
      weeks, the words say why;
    * reading: what stayed with me (``stayed_with_me``), one free answer: anything more
      structured would be a quiz.

    A kind may have several entries (practice more than once). The patient adds and edits
    entries until the therapist reviews the assignment in a session (``Assignment.reviewed_in``);
    after that they are read-only (``sessions.homework``). The closing words the patient may
    write when marking the homework done or not done stay on ``Assignment.reflection``, as
    before: entries are the answers, the reflection the last word. Never deleted.
    """

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=15, choices=AssignmentKind.choices)
    entry_date = models.DateField("day", null=True, blank=True)
    mood = models.PositiveSmallIntegerField(null=True, blank=True)
    people = models.CharField("who I spent time with", max_length=300, blank=True)
    happened = models.TextField("what happened", blank=True)
    said = models.TextField("what I said", blank=True)
    response = models.TextField("how they responded", blank=True)
    feeling = models.PositiveSmallIntegerField("how I felt", null=True, blank=True)
    next_time = models.TextField("what I'd do next time", blank=True)
    rehearsed = models.TextField("what I rehearsed or tried", blank=True)
    did = models.TextField("what I did", blank=True)
    how_it_went = models.TextField("how it went", blank=True)
    stayed_with_me = models.TextField("what stayed with me", blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry_date", "created_at", "id"]
        indexes = [models.Index(fields=["clinic", "assignment"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(mood__isnull=True) | Q(mood__gte=FEELING_MIN, mood__lte=FEELING_MAX),
                name="homework_entry_mood_0_10",
            ),
            models.CheckConstraint(
                condition=Q(feeling__isnull=True)
                | Q(feeling__gte=FEELING_MIN, feeling__lte=FEELING_MAX),
                name="homework_entry_feeling_0_10",
            ),
            models.CheckConstraint(
                condition=~Q(kind=AssignmentKind.LOG)
                | Q(entry_date__isnull=False, mood__isnull=False),
                name="homework_entry_log_has_day_and_mood",
            ),
            models.UniqueConstraint(
                fields=["assignment", "entry_date"],
                condition=Q(entry_date__isnull=False),
                name="homework_entry_one_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} entry {self.pk}"


class WorksheetKind(models.TextChoices):
    """The middle phase's structured techniques. Each value is also a ``Technique``: a
    worksheet of a session is that technique used in it (the note's tick)."""

    COMMUNICATION_ANALYSIS = Technique.COMMUNICATION_ANALYSIS.value, "Communication analysis"
    DECISION_ANALYSIS = Technique.DECISION_ANALYSIS.value, "Decision analysis"
    ROLE_PLAY = Technique.ROLE_PLAY.value, "Role play"


MAX_DECISION_OPTIONS = 8


def validate_decision_options(value) -> None:
    """A decision analysis's options: a list of ``{"option", "pros", "cons"}``, each option
    named, at most ``MAX_DECISION_OPTIONS``; the pros and cons may still be empty."""
    if not isinstance(value, list):
        raise ValidationError("The options must be a list.")
    if len(value) > MAX_DECISION_OPTIONS:
        raise ValidationError(f"At most {MAX_DECISION_OPTIONS} options.")
    for number, option in enumerate(value, start=1):
        if not isinstance(option, dict) or set(option) != {"option", "pros", "cons"}:
            raise ValidationError(f"Option {number} must have an option, its pros and its cons.")
        if not all(isinstance(text, str) for text in option.values()):
            raise ValidationError(f"Option {number}: each part must be text.")
        if not option["option"].strip():
            raise ValidationError(f"Option {number} needs to say what the option is.")
        if any(len(text) > 2000 for text in option.values()):
            raise ValidationError(f"Option {number}: each part must be at most 2,000 characters.")


# What each kind of worksheet records, in the order it is worked through.
WORKSHEET_FIELDS: dict[str, tuple[str, ...]] = {
    WorksheetKind.COMMUNICATION_ANALYSIS: (
        "incident",
        "patient_said",
        "patient_meant",
        "other_said",
        "how_heard",
        "patient_felt",
        "alternatives",
        "will_try",
    ),
    WorksheetKind.DECISION_ANALYSIS: ("decision", "options", "choice", "first_step"),
    WorksheetKind.ROLE_PLAY: ("scene", "roles", "rehearsed", "how_it_went", "follow_on"),
}


class Worksheet(models.Model):
    """One piece of structured middle-phase work done in a session (``sessions.worksheets``):
    a communication analysis, a decision analysis or a role play, about one problem area of
    the course and, where it applies, one person of the inventory.

    Only the fields of its ``kind`` are filled (``WORKSHEET_FIELDS``); the model refuses the
    others. Never deleted: ``removed_at``. ``version`` is bumped by every save (optimistic
    locking, ``ipt_clinic.editing``). A role play's follow-on homework, once set, is a real
    ``Assignment`` (``assignment``)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT)
    course = models.ForeignKey(
        "phases.TreatmentCourse", on_delete=models.PROTECT, related_name="worksheets"
    )
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="worksheets")
    kind = models.CharField(max_length=30, choices=WorksheetKind.choices)
    problem_area = models.ForeignKey(
        "phases.ProblemArea", on_delete=models.PROTECT, related_name="+"
    )
    relationship = models.ForeignKey(
        "patients.Relationship",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="the person (from the inventory)",
    )
    # Communication analysis: one exchange, step by step.
    incident = models.TextField("the incident", blank=True)
    patient_said = models.TextField("what the patient said", blank=True)
    patient_meant = models.TextField("what the patient meant", blank=True)
    other_said = models.TextField("what the other person said", blank=True)
    how_heard = models.TextField("how it was heard", blank=True)
    patient_felt = models.TextField("what the patient felt", blank=True)
    alternatives = models.TextField("alternatives considered", blank=True)
    will_try = models.TextField("what the patient will try", blank=True)
    # Decision analysis: ``options`` holds each option with its pros and cons.
    decision = models.TextField("the decision", blank=True)
    options = models.JSONField(default=list, blank=True, validators=[validate_decision_options])
    choice = models.TextField("the choice", blank=True)
    first_step = models.TextField("the first step", blank=True)
    # Role play
    scene = models.TextField("the scene", blank=True)
    roles = models.TextField("who played whom", blank=True)
    rehearsed = models.TextField("what was rehearsed", blank=True)
    how_it_went = models.TextField("how it went", blank=True)
    follow_on = models.TextField("follow-on homework", blank=True)
    assignment = models.OneToOneField(
        Assignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="worksheet",
        verbose_name="homework set from it",
    )
    # Optimistic locking (ipt_clinic.editing): bumped by every save, checked in its UPDATE.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["clinic", "course", "session"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=WorksheetKind.values), name="worksheet_kind_known"
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self) -> None:
        wanted = WORKSHEET_FIELDS.get(self.kind, ())
        stray = [
            name
            for fields in WORKSHEET_FIELDS.values()
            for name in fields
            if name not in wanted and getattr(self, name) not in ("", [], None)
        ]
        if stray:
            raise ValidationError(
                f"A {self.get_kind_display().lower()} does not hold: {', '.join(stray)}."
            )
