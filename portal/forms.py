"""Portal forms: plain words, one question at a time, a hidden one-time key per rendered form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ipt_clinic.submissions.forms import FormKeyMixin
from sessions.models import AssignmentStatus
from sessions.scoring import ANSWER_CHOICES, INSTRUMENTS

REFLECTION_MAX = 2000


class HomeworkForm(forms.Form):
    status = forms.ChoiceField(
        label=_("How did it go?"),
        choices=[
            (AssignmentStatus.DONE, _("I did it")),
            (AssignmentStatus.NOT_DONE, _("I did not manage it this time")),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose whether you did this homework.")},
    )
    reflection = forms.CharField(
        label=_("A few words about how it went (optional)"),
        required=False,
        max_length=REFLECTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )


class QuestionnaireForm(FormKeyMixin, forms.Form):
    """PHQ-9 or GAD-7, with the item texts from ``sessions.scoring``, and its one-time key
    (``form_binding``: ``sessions.measures.measure_form_binding`` for the patient)."""

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = INSTRUMENTS[instrument]
        for number, text in enumerate(self.spec.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=text,
                choices=ANSWER_CHOICES,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Please answer this question.")},
            )

    @property
    def unanswered(self) -> bool:
        return any(self[f"item_{n}"].errors for n in range(1, len(self.spec.items) + 1))

    @property
    def item_fields(self):
        return [self[f"item_{n}"] for n in range(1, len(self.spec.items) + 1)]

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.spec.items) + 1)]


class LinkCreateForm(forms.Form):
    send = forms.BooleanField(required=False, label="Also send it to the patient")
