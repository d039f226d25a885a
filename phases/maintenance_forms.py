from django import forms

from ipt_clinic.dates import HistoryDatesMixin
from patients.forms import DateInput

from .maintenance import MAX_SESSIONS, MIN_SESSIONS
from .models import Frequency, Goal


class MaintenanceStartForm(HistoryDatesMixin, forms.Form):
    """The maintenance contract, and which of the completed course's goals go on with it."""

    start_date = forms.DateField(label="Maintenance starts on", widget=DateInput())
    planned_sessions = forms.IntegerField(
        label=f"Sessions contracted ({MIN_SESSIONS} to {MAX_SESSIONS})",
        min_value=MIN_SESSIONS,
        max_value=MAX_SESSIONS,
        initial=12,
        help_text="Every four weeks, 12 sessions cover about 11 months and 13 a year; the "
        "manual's longest contract is three years.",
    )
    frequency = forms.ChoiceField(
        label="How often", choices=Frequency.choices, initial=Frequency.MONTHLY
    )
    session_minutes = forms.IntegerField(
        label="Session length (minutes)", min_value=15, max_value=180
    )
    contract_agreed_on = forms.DateField(
        label="Contract agreed on", widget=DateInput(), required=False
    )
    goals = forms.TypedMultipleChoiceField(
        label="Goals to keep working on",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each goal chosen starts again as open, with its progress so far. Every "
        "problem area, the formulation and the relapse-prevention plan are carried over.",
    )

    def __init__(self, *args, goals: list[Goal], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goals"].choices = [
            (
                goal.pk,
                f"{goal.text} ({goal.problem_area.get_kind_display().lower()}; "
                f"{goal.get_status_display().lower()}, {goal.progress}/10)",
            )
            for goal in goals
        ]
        if not goals:
            del self.fields["goals"]
