import calendar
from datetime import UTC, datetime, timedelta

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone

from ipt_clinic.dates import limit_to_bookings
from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin
from patients.forms import DateInput
from patients.models import Relationship
from phases.models import DisputeStage, GoalStatus, ProblemArea

from .models import (
    OFFERED_TECHNIQUES,
    AssignmentKind,
    Modality,
    RiskAction,
    RiskLevel,
    SessionNote,
    SessionStatus,
    Technique,
)
from .scoring import INSTRUMENTS, answer_choices, answer_value
from .series import MAX_SERIES, SERIES_INTERVAL_CHOICES
from .services import (
    COMMON_FIELDS,
    FROM_THE_COURSE,
    MAX_DURATION,
    MIN_DURATION,
    DisputeStageInput,
    GoalReviewInput,
    note_fields_for,
)


class SlotForm(VersionedForm, forms.Form):
    """A date and time in the clinic's time zone; ``cleaned_data["start"]`` is aware. Moving a
    session passes ``version=`` (the session's); booking one does not."""

    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=MIN_DURATION, max_value=MAX_DURATION, initial=50
    )
    modality = forms.ChoiceField(choices=Modality.choices, initial=Modality.IN_PERSON)

    def __init__(self, *args, tz, **kwargs):
        self.tz = tz
        super().__init__(*args, **kwargs)
        self.fields["time"].help_text = f"Clinic time ({tz.key})."
        limit_to_bookings(self.fields["date"], timezone.localdate(timezone=tz))

    def clean(self):
        cleaned = super().clean()
        day, at = cleaned.get("date"), cleaned.get("time")
        if day is None or at is None:
            return cleaned
        start = datetime.combine(day, at, tzinfo=self.tz)
        # A wall-clock time skipped by a clock change does not survive the round trip.
        back = start.astimezone(UTC).astimezone(self.tz)
        if back.replace(tzinfo=None) != start.replace(tzinfo=None):
            raise forms.ValidationError(
                f"{at:%H:%M} does not exist on {day:%d %b %Y} (the clocks change): "
                "choose another time."
            )
        cleaned["start"] = start
        return cleaned

    @classmethod
    def initial_for(cls, start: datetime | None, tz, duration: int, modality: str) -> dict:
        if start is None:
            start = (timezone.localtime(timezone.now(), tz) + timedelta(days=1)).replace(
                hour=10, minute=0, second=0, microsecond=0
            )
        local = timezone.localtime(start, tz)
        return {
            "date": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": duration,
            "modality": modality,
        }

    def stored_values(self, session) -> dict:
        return self.initial_for(
            session.scheduled_start, self.tz, session.duration_minutes, session.modality
        )


WEEKDAYS = [(str(n), name) for n, name in enumerate(calendar.day_name)]


class SeriesForm(forms.Form):
    """A contracted series: ``count`` sessions on one weekday and time from ``first_day``,
    weekly, every two weeks or monthly, the last ``taper_last`` every two weeks (the
    termination taper). Read from the query string for the preview, posted again to book."""

    first_day = forms.DateField(label="From", widget=DateInput())
    weekday = forms.TypedChoiceField(label="Weekday", choices=WEEKDAYS, coerce=int)
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    interval = forms.ChoiceField(label="How often", choices=SERIES_INTERVAL_CHOICES)
    count = forms.IntegerField(label="Sessions", min_value=1, max_value=MAX_SERIES)
    taper_last = forms.IntegerField(
        label="Taper: the last sessions every two weeks",
        min_value=0,
        max_value=20,
        required=False,
        initial=0,
        help_text="For termination: how many of the last sessions are spaced two weeks apart.",
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=MIN_DURATION, max_value=MAX_DURATION
    )
    modality = forms.ChoiceField(choices=Modality.choices)

    def __init__(self, *args, tz, **kwargs):
        self.tz = tz
        super().__init__(*args, **kwargs)
        self.fields["time"].help_text = f"Clinic time ({tz.key})."
        limit_to_bookings(self.fields["first_day"], timezone.localdate(timezone=tz))

    def clean(self):
        cleaned = super().clean()
        count, taper = cleaned.get("count"), cleaned.get("taper_last") or 0
        if count is not None and taper > count:
            self.add_error("taper_last", f"The taper is part of the {count} sessions.")
        cleaned["taper_last"] = taper
        return cleaned


class CancelForm(forms.Form):
    by_whom = forms.ChoiceField(
        label="Cancelled by",
        choices=(("patient", "The patient"), ("clinic", "The clinic")),
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(max_length=300, widget=forms.TextInput)


class AttendanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=((SessionStatus.ATTENDED, "Attended"), (SessionStatus.NO_SHOW, "Did not attend")),
        widget=forms.RadioSelect,
    )


class _ListedChoices(ModelChoiceIterator):
    """A model choice field's options read with one plain query, kept for the next time they
    are listed (Django's iterator streams them through a PostgreSQL server-side cursor:
    DECLARE, FETCH and CLOSE, three round trips for a handful of rows), or the rows of its
    queryset already read by the caller (the field's ``rows_read``), without a query."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = getattr(self.field, "rows_read", None)
        for obj in self.queryset if rows is None else rows:
            yield self.choice(obj)


class NoteForm(forms.ModelForm):
    """The note's fields for its phase, plus per-goal progress (problem-solving) and the
    review of open homework. ``version`` is the version the editor opened."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = SessionNote
        fields = [
            "symptoms_reviewed",
            "sick_role",
            "contract",
            "inventory_work",
            "formulation_discussed",
            "focus_problem_area",
            "interpersonal_events",
            "goal_progress",
            "gains_reviewed",
            "feelings_about_ending",
            "plan_progress",
            "homework_review",
            "narrative",
            "risk_level",
            "risk_notes",
        ]

    def __init__(
        self,
        *args,
        note: SessionNote,
        goals=(),
        homework=(),
        disputes=(),
        problem_areas=None,
        **kwargs,
    ):
        """``problem_areas``: the rows of the focus's queryset (below) when the caller has
        read them already (``selectors.note_problem_areas``), listed without a query."""
        kwargs.setdefault("instance", note)
        super().__init__(*args, **kwargs)
        self.note = note
        self.goals = list(goals)
        self.homework = list(homework)
        self.disputes = list(disputes)
        wanted = set(note_fields_for(note.phase)) - set(FROM_THE_COURSE)
        for name in list(self.fields):
            if name != "version" and name not in wanted:
                del self.fields[name]
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
        if "risk_level" in self.fields:
            self.fields["risk_level"] = forms.ChoiceField(
                label="Risk check",
                choices=[("", "— not yet recorded —"), *RiskLevel.choices],
                required=False,
                initial=note.risk_level,
                help_text="Required on every note before it is saved or signed.",
            )
        if "focus_problem_area" in wanted:
            # The iterator first: setting the queryset hands the widget its choices.
            self.fields["focus_problem_area"].iterator = _ListedChoices
            self.fields["focus_problem_area"].queryset = ProblemArea.objects.filter(
                clinic_id=note.clinic_id,
                course_id=note.session.course_id,
                removed_at__isnull=True,
            )
            if problem_areas is not None:
                self.fields["focus_problem_area"].rows_read = list(problem_areas)
            self.fields["techniques"] = forms.MultipleChoiceField(
                label="Techniques used",
                # A technique no longer offered stays on the note that recorded it.
                choices=OFFERED_TECHNIQUES
                + [
                    (value, label)
                    for value, label in Technique.choices
                    if value in (note.techniques or []) and value not in dict(OFFERED_TECHNIQUES)
                ],
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=note.techniques,
            )
            for goal in self.goals:
                reviewed = goal.review_progress is not None  # in this session already
                self.fields[f"goal_{goal.pk}_progress"] = forms.IntegerField(
                    label=f"Progress on “{goal.text}” (0–10)",
                    min_value=0,
                    max_value=10,
                    required=False,
                    initial=goal.review_progress if reviewed else goal.progress,
                )
                self.fields[f"goal_{goal.pk}_status"] = forms.ChoiceField(
                    label="Status",
                    choices=GoalStatus.choices,
                    initial=goal.review_status if reviewed else goal.status,
                )
            for area in self.disputes:
                self.fields[f"dispute_{area.pk}_stage"] = forms.ChoiceField(
                    label=f"The dispute with {area.other_name}: its stage at this session",
                    choices=[("", "Not recorded at this session"), *DisputeStage.choices],
                    required=False,
                    initial=area.session_stage or "",
                    widget=forms.RadioSelect,
                    help_text=(
                        f"Last recorded: {area.get_dispute_stage_display()}."
                        if area.dispute_stage
                        else "No stage recorded yet."
                    ),
                )
                self.fields[f"dispute_{area.pk}_note"] = forms.CharField(
                    label="What showed it",
                    required=False,
                    initial=area.session_stage_note or "",
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
        for assignment in self.homework:
            self.fields[f"homework_{assignment.pk}"] = forms.ChoiceField(
                label=f"“{assignment.title}”",
                choices=(
                    ("", "Not reviewed yet"),
                    ("done", "Done"),
                    ("not_done", "Not done"),
                ),
                required=False,
                initial=assignment.status if assignment.reviewed_in_id == note.session_id else "",
            )
        self.fields["version"].initial = note.version

    def note_data(self) -> dict:
        fields = set(note_fields_for(self.note.phase))
        return {k: v for k, v in self.cleaned_data.items() if k in fields}

    def goal_reviews(self) -> list[GoalReviewInput]:
        reviews = []
        for goal in self.goals:
            progress = self.cleaned_data.get(f"goal_{goal.pk}_progress")
            if progress is None:
                continue
            reviews.append(
                GoalReviewInput(
                    goal_id=goal.pk,
                    progress=progress,
                    status=self.cleaned_data.get(f"goal_{goal.pk}_status") or goal.status,
                )
            )
        return reviews

    def dispute_stages(self) -> list[DisputeStageInput]:
        """The stages chosen for this session that differ from what is recorded at it."""
        stages = []
        for area in self.disputes:
            stage = self.cleaned_data.get(f"dispute_{area.pk}_stage")
            note = (self.cleaned_data.get(f"dispute_{area.pk}_note") or "").strip()
            if not stage:
                continue
            if stage == area.session_stage and note == (area.session_stage_note or ""):
                continue
            stages.append(DisputeStageInput(problem_area_id=area.pk, stage=stage, note=note))
        return stages

    def dispute_bound_fields(self):
        return [
            (area, self[f"dispute_{area.pk}_stage"], self[f"dispute_{area.pk}_note"])
            for area in self.disputes
            if f"dispute_{area.pk}_stage" in self.fields
        ]

    def homework_reviews(self) -> dict[int, str]:
        return {
            a.pk: self.cleaned_data.get(f"homework_{a.pk}")
            for a in self.homework
            if self.cleaned_data.get(f"homework_{a.pk}")
        }

    def phase_field_names(self) -> list[str]:
        return [n for n in note_fields_for(self.note.phase) if n in self.fields]

    # Bound fields in reading order, for the template.
    def phase_bound_fields(self):
        return [self[n] for n in self.phase_field_names() if n not in COMMON_FIELDS]

    def common_bound_fields(self):
        return [self[n] for n in COMMON_FIELDS if n in self.fields]

    def goal_bound_fields(self):
        return [
            self[f"goal_{goal.pk}_{part}"]
            for goal in self.goals
            for part in ("progress", "status")
            if f"goal_{goal.pk}_{part}" in self.fields
        ]

    def homework_bound_fields(self):
        return [self[f"homework_{a.pk}"] for a in self.homework]


STAFF_SKIP_LABEL = (
    "Does not apply: retired, or chooses not to have a job, for reasons unrelated to the problem"
)


class MeasureForm(FormKeyMixin, forms.Form):
    """One questionnaire, item by item: each a required choice in the instrument's range (the
    WSAS work item may be answered "does not apply", stored unscored). Its one-time key
    (``form_binding``: ``measures.measure_form_binding``) makes it one record however often
    it is sent, and a correction when it is sent again with other answers."""

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = INSTRUMENTS[instrument]
        for number, text in enumerate(self.spec.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {text}",
                choices=answer_choices(
                    self.spec, number, skip_label=STAFF_SKIP_LABEL, with_scores=True
                ),
                coerce=answer_value,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Question {number} needs an answer.",
                    "invalid_choice": (
                        f"Question {number}: the answer must be {self.spec.answer_range}."
                    ),
                },
            )

    def answers(self) -> list[int | None]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.spec.items) + 1)]


class RiskResponseForm(forms.Form):
    """Closing a risk flag: what was done, and in words (required for "other")."""

    action = forms.ChoiceField(
        label="What was done",
        choices=RiskAction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what was done about the risk flag."},
    )
    response = forms.CharField(
        label="What was done and agreed",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say briefly what was done and agreed."},
    )
    # The note whose risk assessment closes the flag, when it is closed from the note.
    note = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AddendumForm(FormKeyMixin, forms.Form):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}))


class AssignmentForm(FormKeyMixin, forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(choices=AssignmentKind.choices)
    relationship = forms.ModelChoiceField(
        label="Person it involves", queryset=Relationship.objects.none(), required=False
    )
    problem_area = forms.ModelChoiceField(
        label="Problem area it serves", queryset=ProblemArea.objects.none(), required=False
    )
    due_date = forms.DateField(widget=DateInput())

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate(timezone=course.clinic.tz)
        limit_to_bookings(self.fields["due_date"], today, what="The due date")
        self.fields["relationship"].queryset = Relationship.objects.filter(
            clinic_id=course.clinic_id, patient_id=course.patient_id, removed_at__isnull=True
        )
        self.fields["problem_area"].queryset = ProblemArea.objects.filter(
            clinic_id=course.clinic_id, course_id=course.pk, removed_at__isnull=True
        )
