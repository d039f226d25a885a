from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from ipt_clinic.dates import HistoryDatesMixin
from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin
from patients.forms import DateInput
from patients.models import Relationship

from .models import (
    PLANNED_SESSIONS,
    DisputeStage,
    DisputeStageEntry,
    EndingDecision,
    FocusDecision,
    Goal,
    GoalStatus,
    MidCourseReview,
    Phase,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TreatmentCourse,
    phase_order,
)
from .services import CONTRACT_FIELDS, GOAL_OUTCOMES, PROBLEM_AREA_FIELDS


def _people(patient):
    return Relationship.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, removed_at__isnull=True
    )


class CourseForm(HistoryDatesMixin, VersionedForm, forms.ModelForm):
    """The course's contract, diagnosis and sick role."""

    class Meta:
        model = TreatmentCourse
        fields = [
            "start_date",
            "planned_sessions",
            "frequency",
            "session_minutes",
            "contract_agreed_on",
            "target_diagnosis",
            "sick_role_note",
            "medication_considered",
            "referral_considered",
            "medication_referral_notes",
        ]
        widgets = {
            "start_date": DateInput(),
            "contract_agreed_on": DateInput(),
            "planned_sessions": forms.NumberInput(attrs={"min": 8, "max": 20}),
            "session_minutes": forms.NumberInput(attrs={"min": 15, "max": 180}),
            "sick_role_note": forms.Textarea(attrs={"rows": 3}),
            "medication_referral_notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "planned_sessions": "Planned sessions (8 to 20)",
            "session_minutes": "Session length (minutes)",
            "contract_agreed_on": "Contract agreed on",
        }
        help_texts = {
            "contract_agreed_on": (
                "Leaving the social assessment needs the contract agreed: the number of "
                "sessions, how often, how long and this date."
            ),
            "medication_considered": (
                "Antidepressants weighed with the patient (severity, preference, past response)."
            ),
            "referral_considered": (
                "Another service weighed: psychiatry, crisis team, a specialist service."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A maintenance contract runs longer than a course of IPT (TreatmentCourse.clean).
        low, high = PLANNED_SESSIONS[self.instance.course_type]
        self.fields["planned_sessions"].widget.attrs.update(min=low, max=high)
        self.fields["planned_sessions"].label = f"Planned sessions ({low} to {high})"


class ContractForm(CourseForm):
    """The sick role and the contract alone, as the initial-phase note shows them (with a
    prefix of its own beside the note's fields): the course's own values, saved to the
    course with the note, never typed twice."""

    class Meta(CourseForm.Meta):
        fields = ["sick_role_note", *CONTRACT_FIELDS]


class FormulationForm(HistoryDatesMixin, VersionedForm, forms.ModelForm):
    class Meta:
        model = TreatmentCourse
        fields = ["formulation", "formulation_agreed_on"]
        widgets = {
            "formulation": forms.Textarea(attrs={"rows": 8}),
            "formulation_agreed_on": DateInput(),
        }
        labels = {"formulation_agreed_on": "Date the patient agreed to it"}


class PatientFormulationForm(VersionedForm, forms.ModelForm):
    """The formulation in the patient's words (prefilled from the clinical one while there is
    no wording yet); the page's two buttons save it as a draft or share it."""

    class Meta:
        model = TreatmentCourse
        fields = ["patient_formulation"]
        widgets = {"patient_formulation": forms.Textarea(attrs={"rows": 10})}
        labels = {"patient_formulation": "In the patient's words"}
        help_texts = {
            "patient_formulation": "Plain words the patient will recognise: how their low mood "
            "is linked to what is happening with the people in their life, and what you will "
            "work on together. Nothing is shown to the patient until you share it."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.instance.patient_formulation:
            self.initial["patient_formulation"] = self.instance.formulation


class ProblemAreaForm(HistoryDatesMixin, VersionedForm, forms.ModelForm):
    """A problem area with the manual's fields for each kind: who died is a person of the
    inventory marked as died, the other party of a dispute a living one. ``other_areas``:
    the course's other live areas (for the warning about interpersonal deficits)."""

    class Meta:
        model = ProblemArea
        fields = PROBLEM_AREA_FIELDS
        widgets = {
            "transition_date": DateInput(),
            **{
                name: forms.Textarea(attrs={"rows": 2})
                for name in PROBLEM_AREA_FIELDS
                if isinstance(ProblemArea._meta.get_field(name), models.TextField)
            },
        }
        labels = {"dispute_stage": "Stage now"}
        help_texts = {
            "dispute_stage": "Each change is kept in the dispute's history on the course page.",
        }

    def __init__(self, *args, patient, other_areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Current people, plus whoever the area already names even if since removed.
        named = [pk for pk in (self.instance.deceased_id, self.instance.other_party_id) if pk]
        people = Relationship.objects.filter(
            Q(removed_at__isnull=True) | Q(pk__in=named),
            clinic_id=patient.clinic_id,
            patient=patient,
        )
        self.fields["deceased"].queryset = people.filter(deceased=True)
        self.fields["deceased"].help_text = format_html(
            'Only people marked as died in the <a href="{}">inventory</a> are listed: mark the '
            "person there (with the date) first.",
            reverse("patients:detail", args=[patient.pk]),
        )
        self.fields["other_party"].queryset = people.filter(deceased=False)
        self.fields["other_party"].help_text = "A living person of the inventory."
        other_kinds = sorted(
            {
                ProblemAreaKind(area.kind).label.lower()
                for area in other_areas
                if area.kind != ProblemAreaKind.DEFICITS
            }
        )
        self.deficits_note = (
            "The manual keeps interpersonal deficits for when no other problem area applies; "
            f"this course already has {', '.join(other_kinds)}."
            if other_kinds
            else ""
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.render_hidden_fields = True  # the version, when editing
        self.helper.layout = Layout(
            "kind",
            "is_primary",
            Fieldset(
                "Grief",
                "deceased",
                "relationship_reconstructed",
                "mourning",
                "mourning_status",
                "anniversaries",
                css_class="kind-fields",
                data_kind="grief",
            ),
            Fieldset(
                "Role dispute",
                "other_party",
                "dispute_stage",
                "non_reciprocal_expectations",
                "dispute_options",
                css_class="kind-fields",
                data_kind="role_dispute",
            ),
            Fieldset(
                "Role transition",
                "old_role",
                "new_role",
                "transition_date",
                "old_role_losses",
                "old_role_gains",
                "new_role_losses",
                "new_role_gains",
                "new_role_skills",
                "new_role_supports",
                css_class="kind-fields",
                data_kind="role_transition",
            ),
            Fieldset(
                "Interpersonal deficits / sensitivity",
                HTML(
                    '{% if form.deficits_note %}<p class="alert alert-warning small" '
                    'role="note">{{ form.deficits_note }}</p>{% endif %}'
                ),
                "social_isolation",
                css_class="kind-fields",
                data_kind="interpersonal_deficits",
            ),
            HTML(
                '<p class="small text-body-secondary">Only the fields of the chosen kind '
                "are kept.</p>"
            ),
            "notes",
        )


class GoalForm(FormKeyMixin, VersionedForm, forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["text", "status", "progress"]
        widgets = {"progress": forms.NumberInput(attrs={"min": 0, "max": 10})}


class RelapsePlanForm(VersionedForm, forms.ModelForm):
    """The plan, written or rewritten: the view passes ``version`` (0 while there is none)."""

    supports = forms.ModelMultipleChoiceField(
        queryset=Relationship.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="People to turn to",
    )

    class Meta:
        model = RelapsePreventionPlan
        fields = [
            "warning_signs",
            "coping_strategies",
            "supports",
            "if_symptoms_return",
            "maintenance_offered",
            "maintenance_notes",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in [
                "warning_signs",
                "coping_strategies",
                "if_symptoms_return",
                "maintenance_notes",
            ]
        }

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        # The people to turn to are living ones.
        self.fields["supports"].queryset = _people(patient).filter(deceased=False)


class AdvanceForm(forms.Form):
    # The phase the clinician saw: a second click after the course moved on is refused.
    expected_phase = forms.ChoiceField(
        choices=Phase.choices, required=False, widget=forms.HiddenInput
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason to go on despite unmet criteria",
        help_text="Needed only when a criterion is not met; it is recorded with the criteria.",
    )


class MoveBackForm(forms.Form):
    expected_phase = forms.ChoiceField(
        choices=Phase.choices, required=False, widget=forms.HiddenInput
    )
    to_phase = forms.ChoiceField(label="Move back to")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why")

    def __init__(self, *args, course, **kwargs):
        kwargs.setdefault("auto_id", "back_%s")  # the drop-out form on the page has "reason" too
        super().__init__(*args, **kwargs)
        order = phase_order(course)
        earlier = list(reversed(order[: order.index(course.phase)]))
        self.fields["to_phase"].choices = [(p, Phase(p).label) for p in earlier]


class DropOutForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Why the course ended early"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "drop_%s")  # the move-back form on the page has "reason" too
        super().__init__(*args, **kwargs)


class DisputeStageForm(HistoryDatesMixin, forms.ModelForm):
    """The dispute's stage at one session."""

    class Meta:
        model = DisputeStageEntry
        fields = ["recorded_on", "stage", "note"]
        widgets = {
            "recorded_on": DateInput(),
            "stage": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"recorded_on": "Session date", "stage": "Stage at this session"}
        help_texts = {
            "note": "What the patient reported or what happened between them that shows it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = DisputeStage.choices


class MidCourseReviewForm(forms.ModelForm):
    class Meta:
        model = MidCourseReview
        fields = ["goals_progress", "focus", "focus_reason", "plan"]
        widgets = {
            "goals_progress": forms.Textarea(attrs={"rows": 3}),
            "focus": forms.RadioSelect,
            "focus_reason": forms.Textarea(attrs={"rows": 2}),
            "plan": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "goals_progress": "The goals' progress",
            "focus": "The problem-area focus",
            "focus_reason": "Why the focus is kept or changed",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus"].choices = FocusDecision.choices


class EndingForm(VersionedForm, forms.ModelForm):
    """The end of the course: each goal's outcome (a field ``goal_<id>`` per live goal) and
    what comes next, which a patient without a response (``decision_required``) must have."""

    class Meta:
        model = TreatmentCourse
        fields = ["ending_decision", "ending_decision_reason"]
        widgets = {
            "ending_decision": forms.RadioSelect,
            "ending_decision_reason": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"ending_decision_reason": "Reason and details"}
        help_texts = {
            "ending_decision_reason": "Needed for \u201cNone\u201d; otherwise what was arranged.",
        }

    def __init__(self, *args, goals: list[Goal], decision_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.goals = goals
        outcomes = [(status, GoalStatus(status).label) for status in GOAL_OUTCOMES]
        for goal in goals:
            self.fields[f"goal_{goal.pk}"] = forms.ChoiceField(
                label=goal.text,
                choices=[("", "Choose the outcome"), *outcomes],
                initial="" if goal.status == GoalStatus.OPEN else goal.status,
                required=True,
                error_messages={"required": "Choose this goal's outcome."},
            )
        decision = self.fields["ending_decision"]
        decision.choices = EndingDecision.choices
        decision.required = decision_required
        decision.error_messages["required"] = "Record what comes next."
        decision.label = "What comes next" + ("" if decision_required else " (optional)")

    def goal_fields(self):
        return [self[f"goal_{goal.pk}"] for goal in self.goals]

    def goal_outcomes(self) -> dict[int, str]:
        return {goal.pk: self.cleaned_data[f"goal_{goal.pk}"] for goal in self.goals}

    def edited_values(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in ("ending_decision", "ending_decision_reason")
        }
