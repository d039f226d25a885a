from django import forms

from .forms import SlotForm

OTHER_SIGN = "other"
NO_SIGN = "none"


class BoosterForm(SlotForm):
    """The booster's time, and which warning sign of the relapse-prevention plan came back:
    one of the plan's (``signs``), another typed in, or none named."""

    sign = forms.ChoiceField(label="The warning sign that came back", widget=forms.RadioSelect)
    other_sign = forms.CharField(label="Another sign", max_length=300, required=False)
    note = forms.CharField(
        label="What the patient noticed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = ["sign", "other_sign", "note", "date", "time", "duration_minutes", "modality"]

    def __init__(self, *args, signs: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.signs = signs
        self.fields["sign"].choices = [
            *((str(index), sign) for index, sign in enumerate(signs)),
            (OTHER_SIGN, "Another sign (write it below)"),
            (NO_SIGN, "None named (the booster is flagged on the course)"),
        ]

    def clean(self):
        cleaned = super().clean()
        sign, other = cleaned.get("sign"), (cleaned.get("other_sign") or "").strip()
        if sign == OTHER_SIGN and not other:
            self.add_error("other_sign", "Write the sign that came back.")
        if sign == OTHER_SIGN:
            cleaned["warning_sign"] = other
        elif sign == NO_SIGN or sign is None:
            cleaned["warning_sign"] = ""
        else:
            cleaned["warning_sign"] = self.signs[int(sign)]
        return cleaned
