"""The worksheet form (``sessions.worksheets``): one form class, its fields those of the kind;
and the note form's techniques as the session's worksheets tick them."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row
from django import forms
from django.db.models import Q

from ipt_clinic.editing import VersionedForm
from ipt_clinic.submissions.forms import FormKeyMixin
from patients.models import Relationship
from phases.models import ProblemArea

from .models import MAX_DECISION_OPTIONS, WORKSHEET_FIELDS, Technique, Worksheet, WorksheetKind
from .worksheets import REQUIRED, worksheets_words

REQUIRED_MESSAGES = {
    name: text for messages in REQUIRED.values() for name, text in messages.items()
}

# What each field asks, in the words of the kind it belongs to.
HELP = {
    "incident": "One exchange, as the patient tells it: when, where, who was there.",
    "patient_said": "Their words, as near as the patient remembers them.",
    "patient_meant": "What the patient wanted the other person to understand.",
    "other_said": "Their words in reply.",
    "how_heard": "How the patient heard the other's words, and how the other seems to have "
    "heard the patient's.",
    "patient_felt": "During the exchange and afterwards.",
    "alternatives": "Other ways the patient could have said it or answered; what each might "
    "have led to.",
    "will_try": "What the patient will say or do next time.",
    "decision": "The choice the patient faces.",
    "choice": "What the patient chose, and why.",
    "first_step": "The first thing the patient will do, and when.",
    "scene": "The situation played: where, when, what is at stake.",
    "roles": "E.g. the patient played themself and the therapist played her husband; then "
    "the other way round.",
    "rehearsed": "What the patient practised saying or doing.",
    "how_it_went": "How it felt, what worked, what the patient would change.",
    "follow_on": "What the patient will try before the next session. Set it as homework "
    "with one click from the session page: the patient sees it in their portal.",
}
PERSON_LABELS = {
    WorksheetKind.COMMUNICATION_ANALYSIS: "The other person (from the inventory)",
    WorksheetKind.DECISION_ANALYSIS: "The person the decision concerns, if any",
    WorksheetKind.ROLE_PLAY: "The person the scene is with (from the inventory)",
}
# Read side by side: what was said beside what was meant, or how it was heard.
PAIRED = {"patient_said": "patient_meant", "other_said": "how_heard"}
# Option rows shown open; the rest, up to MAX_DECISION_OPTIONS, behind "More options".
SHOWN_OPTIONS = 3


class WorksheetForm(VersionedForm, FormKeyMixin, forms.Form):
    """A worksheet of ``kind`` for ``course``. Writing a new one: ``form_binding`` (its
    one-time key); editing one: ``worksheet`` (its values, and its version rides along). A
    decision analysis has a row per option (``option_N``, ``option_N_pros``,
    ``option_N_cons``)."""

    def __init__(self, *args, kind: str, course, worksheet: Worksheet | None = None, **kwargs):
        if worksheet is not None:
            kwargs.setdefault("version", worksheet.version)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.worksheet = worksheet
        self.kind_fields = [n for n in WORKSHEET_FIELDS[kind] if n != "options"]
        # The course's areas and the patient's people now, plus whoever the worksheet already
        # names if since removed (so that editing it does not drop them).
        area = worksheet.problem_area_id if worksheet else None
        person = worksheet.relationship_id if worksheet else None
        self.fields["problem_area"] = forms.ModelChoiceField(
            label="Problem area",
            queryset=ProblemArea.objects.filter(
                Q(removed_at__isnull=True) | Q(pk=area),
                clinic_id=course.clinic_id,
                course_id=course.pk,
            ),
            empty_label="— choose —",
            initial=area,
            error_messages={"required": "Choose the problem area this work was about."},
        )
        self.fields["relationship"] = forms.ModelChoiceField(
            label=PERSON_LABELS[kind],
            queryset=Relationship.objects.filter(
                Q(removed_at__isnull=True) | Q(pk=person),
                clinic_id=course.clinic_id,
                patient_id=course.patient_id,
            ),
            required=False,
            empty_label="— nobody in particular —",
            initial=person,
        )
        for name in self.kind_fields:
            field = Worksheet._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:],
                help_text=HELP.get(name, ""),
                required=name == self.kind_fields[0],
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=getattr(worksheet, name) if worksheet else "",
                error_messages={"required": REQUIRED_MESSAGES.get(name, "")},
            )
        self.option_count = 0
        if "options" in WORKSHEET_FIELDS[kind]:
            self._add_option_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.render_hidden_fields = True  # the version or the one-time key
        self.helper.layout = self._layout()

    def _add_option_fields(self) -> None:
        stored = list(self.worksheet.options or []) if self.worksheet else []
        for number in range(1, MAX_DECISION_OPTIONS + 1):
            option = stored[number - 1] if number <= len(stored) else {}
            for part, label in (
                ("option", f"Option {number}"),
                ("pros", f"Pros of option {number}"),
                ("cons", f"Cons of option {number}"),
            ):
                name = f"option_{number}" if part == "option" else f"option_{number}_{part}"
                self.fields[name] = forms.CharField(
                    label=label,
                    required=False,
                    max_length=2000,
                    initial=option.get(part, ""),
                    widget=forms.TextInput if part == "option" else forms.Textarea(
                        attrs={"rows": 2}
                    ),
                )  # fmt: skip
        filled = len(stored)
        if self.is_bound:
            filled = max(
                (n for n in range(1, MAX_DECISION_OPTIONS + 1) if self._typed_option(n)),
                default=0,
            )
        self.option_count = min(MAX_DECISION_OPTIONS, max(SHOWN_OPTIONS, filled + 1))

    def _typed_option(self, number: int) -> bool:
        return any(
            (self.data.get(self.add_prefix(name)) or "").strip()
            for name in (f"option_{number}", f"option_{number}_pros", f"option_{number}_cons")
        )

    def _layout(self) -> Layout:
        parts = [_side_by_side("problem_area", "relationship")]
        for name in WORKSHEET_FIELDS[self.kind]:
            if name in PAIRED:
                parts.append(_side_by_side(name, PAIRED[name]))
                continue
            if name in PAIRED.values():
                continue
            if name != "options":
                parts.append(name)
                continue
            parts.append(HTML('<h2 class="h6 mt-3" id="options-h">The options</h2>'))
            parts.append(
                HTML('<p class="small text-body-secondary">Each option the patient sees, '
                     "with its pros and cons. Leave a row empty to leave it out.</p>")
            )  # fmt: skip
            for number in range(1, MAX_DECISION_OPTIONS + 1):
                if number == self.option_count + 1:
                    parts.append(
                        HTML('<details class="mb-3"><summary>More options (up to '
                             f"{MAX_DECISION_OPTIONS})</summary>")
                    )  # fmt: skip
                parts.append(
                    Div(
                        f"option_{number}",
                        Row(
                            Column(f"option_{number}_pros", css_class="col-md-6"),
                            Column(f"option_{number}_cons", css_class="col-md-6"),
                        ),
                        css_class="border rounded px-3 pt-2 mb-3 worksheet-option",
                    )
                )
            if self.option_count < MAX_DECISION_OPTIONS:
                parts.append(HTML("</details>"))
        return Layout(*parts)

    def clean(self):
        cleaned = super().clean()
        if "option_1" in self.fields:
            cleaned["options"] = [
                {
                    "option": cleaned.get(f"option_{n}", ""),
                    "pros": cleaned.get(f"option_{n}_pros", ""),
                    "cons": cleaned.get(f"option_{n}_cons", ""),
                }
                for n in range(1, MAX_DECISION_OPTIONS + 1)
            ]
        return cleaned

    def content(self) -> dict:
        """What was typed, for ``worksheet_create`` / ``worksheet_update``."""
        content = {
            name: self.cleaned_data.get(name)
            for name in ("problem_area", "relationship", *self.kind_fields)
        }
        if "options" in WORKSHEET_FIELDS[self.kind]:
            content["options"] = self.cleaned_data["options"]
        return content

    def stored_values(self, current: Worksheet) -> dict:
        values = super().stored_values(current)
        if "option_1" in self.fields:
            stored = list(current.options or [])
            for number in range(1, MAX_DECISION_OPTIONS + 1):
                option = stored[number - 1] if number <= len(stored) else {}
                values[f"option_{number}"] = option.get("option", "")
                values[f"option_{number}_pros"] = option.get("pros", "")
                values[f"option_{number}_cons"] = option.get("cons", "")
        return values

    def show_conflict(self, current: Worksheet) -> None:
        super().show_conflict(current)
        # Option rows empty in both versions would only lengthen the comparison.
        self.conflict = [row for row in self.conflict if row.theirs or row.yours]

    def add_service_errors(self, error) -> None:
        """A refusal of the service shown on the form: by field where it names one."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                if name == "options":
                    name = "option_1" if "option_1" in self.fields else None
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


def _side_by_side(left: str, right: str) -> Row:
    return Row(Column(left, css_class="col-md-6"), Column(right, css_class="col-md-6"))


class WorksheetTechniques(forms.MultipleChoiceField):
    """The note's "techniques used" beside the session's worksheets (``counts``, by kind): a
    technique with worksheets says how many beside its tick, is ticked, and stays ticked
    whatever is sent, since the worksheets show it was used."""

    def __init__(self, *, field: forms.MultipleChoiceField, counts: dict[str, int]):
        self.counts = counts
        super().__init__(
            label=field.label,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[
                (value, f"{label} — {worksheets_words(counts[value])}")
                if value in counts
                else (value, label)
                for value, label in field.choices
            ],
            initial=[t for t in Technique.values if t in (field.initial or []) or t in counts],
            help_text="A technique with a worksheet in this session counts as used.",
        )

    def clean(self, value):
        ticked = super().clean(value)
        return [t for t in Technique.values if t in ticked or t in self.counts]


def with_worksheet_techniques(form, counts: dict[str, int]):
    """``form`` (the note's) with its techniques ticked by the session's worksheets."""
    field = form.fields.get("techniques")
    if field is not None and counts:
        form.fields["techniques"] = WorksheetTechniques(field=field, counts=counts)
    return form
