"""Portal forms: plain words, one question at a time, a hidden one-time key per rendered form."""

from django import forms
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ipt_clinic.submissions.forms import FormKeyMixin
from phases.formulation_sharing import COMMENT_MAX
from phases.models import FormulationAnswerKind
from sessions.models import AssignmentStatus
from sessions.scoring import INSTRUMENTS, answer_choices, answer_value

from .lost_link import contact_parse

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
    """PHQ-9, GAD-7 or WSAS, with the item texts and answers from ``sessions.scoring`` (the
    WSAS work item may be answered "does not apply", in the scale's own words), and its
    one-time key (``form_binding``: ``sessions.measures.measure_form_binding`` for the
    patient)."""

    def __init__(self, *args, instrument: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = INSTRUMENTS[instrument]
        for number, text in enumerate(self.spec.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=text,
                choices=answer_choices(
                    self.spec, number, skip_label=self.spec.skip_label, with_scores=False
                ),
                coerce=answer_value,
                widget=forms.RadioSelect(attrs={"class": "answer-input"}),
                error_messages={"required": _("Please answer this question.")},
            )

    @property
    def unanswered(self) -> bool:
        return any(self[f"item_{n}"].errors for n in range(1, len(self.spec.items) + 1))

    @property
    def item_fields(self):
        return [self[f"item_{n}"] for n in range(1, len(self.spec.items) + 1)]

    @property
    def answers_slot(self) -> str:
        """Where this tab keeps the answers typed but not yet sent (static/js/questionnaire.js):
        named for what the form's key is bound to (the questionnaire, the patient), without
        saying who the patient is."""
        return answers_slot(self.form_binding)

    def answers(self) -> list[int | None]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.spec.items) + 1)]


def answers_slot(binding) -> str:
    """``QuestionnaireForm.answers_slot`` for a form key's ``binding``: "<whose>/<form>", the
    first part a keyed hash of the clinic and patient (the same for both questionnaires)."""
    whose = salted_hmac(
        "portal.questionnaire.answers", f"{binding.clinic_id}:{binding.scope}", algorithm="sha256"
    )
    return f"{whose.hexdigest()[:20]}/{binding.purpose}"


class LinkCreateForm(forms.Form):
    send = forms.BooleanField(required=False, label="Also send it to the patient")


class LostLinkForm(forms.Form):
    """“Lost your link?”: the email address or phone number on file (``portal.lost_link``)."""

    contact = forms.CharField(
        label=_("Your email address or mobile phone number"),
        help_text=_("The one your clinic has for you."),
        max_length=254,
        widget=forms.TextInput(attrs={"class": "form-control form-control-lg"}),
        error_messages={
            "required": _("Please type your email address or phone number."),
            "max_length": _(
                "This is longer than an email address or a phone number can be. Please check it."
            ),
        },
    )

    def clean_contact(self):
        # The normalised contact; the typed text stays in the form for the page.
        return contact_parse(self.cleaned_data["contact"])


class FormulationAnswerForm(FormKeyMixin, forms.Form):
    """The patient's answer to the formulation shared with them, with its one-time key
    (``form_binding``: ``phases.formulation_sharing.ANSWER_FORM`` bound to the wording)."""

    answer = forms.ChoiceField(
        label=_("Does this fit how things are for you?"),
        choices=[
            (FormulationAnswerKind.AGREE, _("I agree")),
            (FormulationAnswerKind.TALK, _("I'd like to talk about this")),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Please choose one of the two answers.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to add (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        error_messages={
            "max_length": _(
                "Please keep this to %(limit_value)d characters (it has %(show_value)d)."
            )
        },
    )
