from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms

from ipt_clinic.editing import VersionedForm

from .models import DischargeLetter


class LetterForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = DischargeLetter
        fields = [
            "recipient_name",
            "recipient_role",
            "recipient_address",
            *DischargeLetter.SECTIONS,
        ]
        widgets = {
            "recipient_address": forms.Textarea(attrs={"rows": 3}),
            **{name: forms.Textarea(attrs={"rows": 4}) for name in DischargeLetter.SECTIONS},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("To", "recipient_name", "recipient_role", "recipient_address"),
            Fieldset("The letter", *DischargeLetter.SECTIONS),
        )
        if "version" in self.fields:
            self.helper.layout.append("version")
