"""The portal's homework entry form: the questions of the homework's kind
(``sessions.homework.KIND_FIELDS``), in the patient's words, each one translatable."""

from datetime import date

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin
from sessions.homework import KIND_FIELDS, KIND_REQUIRED
from sessions.models import AssignmentKind

TEXT_MAX = 2000
PEOPLE_MAX = 300
SCALE_ERROR = _("Choose a number from 0 to 10.")


def _text(label, *, max_length: int = TEXT_MAX, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "class": "form-control"}),
        error_messages={
            "required": _("Please write a few words here."),
            "max_length": _("Please keep this shorter (at most %(limit_value)d characters)."),
        },
    )


def _scale(label, help_text) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=10,
        widget=forms.NumberInput(
            attrs={
                "class": "form-control portal-scale",
                "min": 0,
                "max": 10,
                "inputmode": "numeric",
            }
        ),
        error_messages={
            "required": SCALE_ERROR,
            "invalid": SCALE_ERROR,
            "min_value": SCALE_ERROR,
            "max_value": SCALE_ERROR,
        },
    )


FEELING_HELP = _("0 means very bad, 10 means very good.")


def _field(kind: str, name: str) -> forms.Field:
    if name == "entry_date":
        return forms.DateField(
            label=_("Which day"),
            widget=forms.DateInput(
                attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"
            ),
            error_messages={
                "required": _("Please choose the day."),
                "invalid": _("Please choose the day (for example 7 December 2026)."),
            },
        )
    if name == "mood":
        return _scale(
            _("My mood that day, from 0 to 10"), _("0 means very low, 10 means very good.")
        )
    if name == "feeling":
        label = {
            AssignmentKind.ACTIVITY: _("How it felt, from 0 to 10"),
        }.get(kind, _("How I felt, from 0 to 10"))
        return _scale(label, FEELING_HELP)
    if name == "people":
        field = _text(_("Who I spent time with"), max_length=PEOPLE_MAX, rows=1)
        field.widget = forms.TextInput(attrs={"class": "form-control"})
        return field
    labels = {
        "happened": _("What happened"),
        "said": _("What I said"),
        "response": _("How they responded"),
        "next_time": _("What I would do next time"),
        "rehearsed": _("What I rehearsed or tried"),
        "did": _("What I did"),
        "stayed_with_me": _("What stayed with me"),
        "how_it_went": (
            _("How it felt, in a few words")
            if kind == AssignmentKind.ACTIVITY
            else _("How it went")
        ),
    }
    return _text(labels[name])


class HomeworkEntryForm(VersionedForm, FormKeyMixin, forms.Form):
    """One entry on homework of ``kind``. Made with ``form_binding`` to add an entry (its
    one-time key), with ``version`` to change one. ``today`` and ``earliest`` bound a log's day
    (the clinic's today; the day the homework was set)."""

    def __init__(self, *args, kind: str, today: date, earliest: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.today = today
        self.earliest = earliest
        required = KIND_REQUIRED[kind]
        for name in KIND_FIELDS[kind]:
            field = _field(kind, name)
            field.required = name in required
            if not field.required:
                field.label = _("%(label)s (optional)") % {"label": field.label}
            self.fields[name] = field
        if "entry_date" in self.fields:
            self.fields["entry_date"].widget.attrs["max"] = today.isoformat()
            if not self.is_bound and "entry_date" not in self.initial:
                self.initial["entry_date"] = today

    def clean_entry_date(self):
        day = self.cleaned_data["entry_date"]
        if day > self.today:
            raise forms.ValidationError(
                _("This day has not come yet. Please choose today or an earlier day.")
            )
        if self.earliest is not None and day < self.earliest:
            raise forms.ValidationError(
                _("Please choose a day from %(day)s on, when this homework was set.")
                % {"day": formats.date_format(self.earliest, pgettext("a date", "j F Y"))}
            )
        return day

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in KIND_FIELDS[self.kind]}

    @property
    def answer_fields(self):
        return [self[name] for name in KIND_FIELDS[self.kind]]
