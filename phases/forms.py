from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.db.models import Q

from ipt_clinic.dates import HistoryDatesMixin
from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin
from patients.forms import DateInput
from patients.models import Relationship

from .models import (
    PLANNED_SESSIONS,
    Goal,
    Phase,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
    phase_order,
)
from .services import CONTRACT_FIELDS


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
        ]
        widgets = {
            "start_date": DateInput(),
            "contract_agreed_on": DateInput(),
            "planned_sessions": forms.NumberInput(attrs={"min": 8, "max": 20}),
            "session_minutes": forms.NumberInput(attrs={"min": 15, "max": 180}),
            "sick_role_note": forms.Textarea(attrs={"rows": 3}),
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


class ProblemAreaForm(HistoryDatesMixin, VersionedForm, forms.ModelForm):
    class Meta:
        model = ProblemArea
        fields = [
            "kind",
            "is_primary",
            "deceased",
            "mourning_status",
            "other_party",
            "dispute_stage",
            "old_role",
            "new_role",
            "transition_date",
            "notes",
        ]
        widgets = {
            "transition_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        # Current people, plus whoever the area already names even if since removed.
        named = [pk for pk in (self.instance.deceased_id, self.instance.other_party_id) if pk]
        people = Relationship.objects.filter(
            Q(removed_at__isnull=True) | Q(pk__in=named),
            clinic_id=patient.clinic_id,
            patient=patient,
        )
        self.fields["deceased"].queryset = people
        self.fields["other_party"].queryset = people
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.render_hidden_fields = True  # the version, when editing
        self.helper.layout = Layout(
            "kind",
            "is_primary",
            Fieldset(
                "Grief",
                "deceased",
                "mourning_status",
                css_class="kind-fields",
                data_kind="grief",
            ),
            Fieldset(
                "Role dispute",
                "other_party",
                "dispute_stage",
                css_class="kind-fields",
                data_kind="role_dispute",
            ),
            Fieldset(
                "Role transition",
                "old_role",
                "new_role",
                "transition_date",
                css_class="kind-fields",
                data_kind="role_transition",
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
        self.fields["supports"].queryset = _people(patient)


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
