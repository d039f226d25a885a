from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.dates import HistoryDatesMixin
from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin

from .models import (
    Channel,
    Language,
    LifeEvent,
    MoodEffect,
    Patient,
    PatientStatus,
    Relationship,
)
from .selectors import phase_choices, problem_area_choices
from .services import RECORD_NUMBER_TAKEN


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(HistoryDatesMixin, VersionedForm, forms.ModelForm):
    """Create or edit a patient. ``therapists`` (a clinic admin creating a patient) adds the
    choice of primary therapist; a therapist's new patients are their own. Editing carries
    the patient's version (``VersionedForm``)."""

    class Meta:
        model = Patient
        fields = [
            "record_number",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "reminder_consent",
            "language",
        ]
        widgets = {"date_of_birth": DateInput()}
        help_texts = {
            "reminder_consent": "Reminders carry no clinical content: first name, time, "
            "clinic and link. Withdrawing consent clears the time stamp."
        }

    def __init__(self, *args, clinic, therapists=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["language"].required = False
        if therapists is not None:
            self.fields["primary_therapist"] = forms.ModelChoiceField(
                queryset=therapists, label="Primary therapist"
            )
            self.fields["primary_therapist"].label_from_instance = lambda user: user.display_name
            self.order_fields(["primary_therapist"])

    def clean_language(self):
        # Browsers always send the select's value; a form sent without it (a script, an older
        # page) keeps the stored language rather than being refused.
        return self.cleaned_data.get("language") or self.instance.language or Language.ENGLISH

    def clean_record_number(self):
        record_number = self.cleaned_data["record_number"].strip()
        taken = Patient.objects.filter(clinic=self.clinic, record_number=record_number)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(RECORD_NUMBER_TAKEN)
        return record_number

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("preferred_channel")
        if channel == Channel.EMAIL and not cleaned.get("email"):
            self.add_error("email", "Reminders by email need an email address.")
        if channel == Channel.SMS and not cleaned.get("phone"):
            self.add_error("phone", "Reminders by text message need a phone number.")
        return cleaned


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the bound form (on the field it names, when the
    form has that field), so the page re-renders with everything typed still there."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def clinic_therapists(clinic):
    return User.objects.filter(clinic=clinic, role=Role.THERAPIST, is_active=True).order_by(
        "last_name", "first_name"
    )


class PatientFilterForm(forms.Form):
    q = forms.CharField(label="Name or record number", required=False, max_length=100)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Active and discharged"), *PatientStatus.choices],
    )
    phase = forms.ChoiceField(required=False)
    problem_area = forms.ChoiceField(required=False, label="Problem area")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = [("", "Any phase"), *phase_choices()]
        self.fields["problem_area"].choices = [("", "Any problem area"), *problem_area_choices()]


class RelationshipForm(HistoryDatesMixin, FormKeyMixin, VersionedForm, forms.ModelForm):
    class Meta:
        model = Relationship
        fields = [
            "name",
            "kind",
            "deceased",
            "died_on",
            "ring",
            "is_support",
            "contact_frequency",
            "shared_activities",
            "satisfying",
            "unsatisfying",
            "patient_expectations",
            "their_expectations",
            "expectations_met",
            "disputes",
            "knows_about_depression",
            "wants_to_change",
            "changed_near_onset",
            "change_when",
        ]
        labels = {
            "knows_about_depression": "Knows about the depression",
            "died_on": "Died on (if known)",
        }
        help_texts = {
            "deceased": (
                "Someone who has died stays who they were to the patient (mother, partner): a "
                "grief problem area names them."
            ),
        }
        widgets = {
            "died_on": DateInput(),
            **{
                name: forms.Textarea(attrs={"rows": 2})
                for name in [
                    "shared_activities",
                    "satisfying",
                    "unsatisfying",
                    "patient_expectations",
                    "their_expectations",
                    "disputes",
                    "wants_to_change",
                ]
            },
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("died_on") and not cleaned.get("deceased"):
            # A date of death says so; the box need not be ticked as well.
            cleaned["deceased"] = True
        return cleaned


class LifeEventForm(HistoryDatesMixin, FormKeyMixin, VersionedForm, forms.ModelForm):
    mood_effect = forms.TypedChoiceField(
        choices=MoodEffect.choices, coerce=int, initial=MoodEffect.NONE, label="Effect on mood"
    )

    class Meta:
        model = LifeEvent
        fields = ["occurred_on", "description", "relationship", "mood_effect"]
        widgets = {"occurred_on": DateInput()}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        # Current people, plus the one already linked even if since removed from the circle.
        self.fields["relationship"].queryset = Relationship.objects.filter(
            Q(removed_at__isnull=True) | Q(pk=self.instance.relationship_id),
            clinic_id=patient.clinic_id,
            patient=patient,
        )
        self.fields["relationship"].empty_label = "Nobody in particular"
