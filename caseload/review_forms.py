"""Forms of the clinic admin's pages. Every choice of a person or a course is limited to the
admin's own clinic, so an id from elsewhere is simply an invalid choice."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError

from ipt_clinic.accounts.models import Role
from ipt_clinic.dates import HistoryDatesMixin
from patients.forms import DateInput
from patients.models import Patient, PatientStatus
from phases.models import CourseStatus, Phase, ProblemAreaKind, TreatmentCourse

from .dashboard_selectors import METRICS, CourseFilters, clinic_therapists


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        suffix = " (deactivated)" if (not obj.is_active or obj.deactivated_at) else ""
        return f"{obj.display_name}{suffix}"


class CourseFilterForm(forms.Form):
    therapist = TherapistChoiceField(queryset=None, required=False, empty_label="All therapists")
    phase = forms.ChoiceField(choices=[("", "All phases"), *Phase.choices], required=False)
    problem_area = forms.ChoiceField(
        choices=[("", "All problem areas"), *ProblemAreaKind.choices], required=False
    )
    risk = forms.ChoiceField(
        choices=[("", "Any"), ("open", "Open risk flag"), ("none", "No open risk flag")],
        required=False,
    )
    status = forms.ChoiceField(
        choices=[
            (CourseStatus.ACTIVE, "Active"),
            *[c for c in CourseStatus.choices if c[0] != CourseStatus.ACTIVE],
            ("all", "Every status"),
        ],
        required=False,
    )
    metric = forms.ChoiceField(
        choices=[("", "—"), *[(m.key, m.label) for m in METRICS]],
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, clinic_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = clinic_therapists(clinic_id)
        for field in self.visible_fields():
            field.field.widget.attrs["class"] = "form-select"

    def to_filters(self) -> CourseFilters:
        data = self.cleaned_data
        status = data.get("status") or CourseStatus.ACTIVE
        return CourseFilters(
            therapist_id=data["therapist"].pk if data.get("therapist") else None,
            phase=data.get("phase") or "",
            problem_area=data.get("problem_area") or "",
            risk=data.get("risk") or "",
            status="" if status == "all" else status,
            metric=data.get("metric") or "",
        )


class PeriodForm(HistoryDatesMixin, forms.Form):
    date_from = forms.DateField(
        label="Ended from", widget=DateInput(attrs={"class": "form-control"})
    )
    date_to = forms.DateField(label="Ended to", widget=DateInput(attrs={"class": "form-control"}))

    @staticmethod
    def default_period(today: date) -> tuple[date, date]:
        return today - timedelta(days=365), today

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise ValidationError("The period must start before it ends.")
        return cleaned


class ReassignForm(forms.Form):
    course = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    to_therapist = TherapistChoiceField(queryset=None, label="Reassign to")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    # Who writes and signs the notes the previous therapist left unsigned.
    notes_signer = forms.ChoiceField(
        choices=[("therapist", "The new therapist"), ("me", "Me")],
        required=False,
        label="Unsigned notes signed by",
    )

    def __init__(self, *args, clinic_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = TreatmentCourse.objects.filter(
            clinic_id=clinic_id, status=CourseStatus.ACTIVE
        )
        self.fields["to_therapist"].queryset = clinic_therapists(clinic_id).filter(
            is_active=True, deactivated_at__isnull=True
        )


class MoveForm(forms.Form):
    """Moving some or all of one therapist's patients to another therapist: posted once to
    preview the move (``only``: the patients it is about, none for all of them), then again
    to confirm it (``patients``: those ticked on the preview)."""

    to_therapist = TherapistChoiceField(queryset=None, label="Move to")
    reason = forms.CharField(max_length=500)
    notes_signer = forms.ChoiceField(
        choices=[("therapist", "The new therapist"), ("me", "Me")],
        required=False,
        label="Unsigned notes signed by",
    )
    only = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.MultipleHiddenInput
    )
    patients = forms.ModelMultipleChoiceField(queryset=None, required=False)

    def __init__(self, *args, clinic_id: int, from_therapist, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_therapist"].queryset = (
            clinic_therapists(clinic_id)
            .filter(is_active=True, deactivated_at__isnull=True)
            .exclude(pk=from_therapist.pk)
        )
        # Any of the clinic's patients: one moved to someone else since the preview is
        # refused by the move itself, which says so (caseload.services.caseload_reassign).
        patients = Patient.objects.filter(clinic_id=clinic_id).exclude(
            status=PatientStatus.ARCHIVED
        )
        self.fields["only"].queryset = patients
        self.fields["patients"].queryset = patients


class InviteForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    role = forms.TypedChoiceField(
        choices=Role.choices,
        initial=Role.THERAPIST,
        required=False,
        empty_value=Role.THERAPIST,
        widget=forms.RadioSelect,
        help_text="A clinic admin sees every caseload of the clinic and manages its staff "
        "and settings.",
    )


class DeactivateForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)

    def __init__(self, *args, clinic_id: int, by, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            clinic_therapists(clinic_id).filter(is_active=True).exclude(pk=by.pk)
        )
