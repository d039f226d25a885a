"""The hidden one-time key of a form that creates something (the rule: ``services``)."""

from django import forms

from .services import KEY_MAX_LENGTH, FormBinding, form_key_issue

KEY_MISSING = (
    "This form was opened before the app was updated, so nothing was saved. What you entered "
    "is below: check it and save again."
)


class FormKeyMixin:
    """Adds the hidden ``form_key`` to a form when it is given ``form_binding`` (what the key
    is bound to: ``FormPurpose.bind(record)``); a form class that also edits records is made
    without one for editing and has no key then. An unbound form gets a fresh key each time
    it is made, so each rendering is a new form. ``cleaned_data["form_key"]`` is the key
    sent, for the service's ``form_key`` argument."""

    def __init__(self, *args, form_binding: FormBinding | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_binding = form_binding
        if form_binding is None:
            return
        self.fields["form_key"] = forms.CharField(
            widget=forms.HiddenInput, required=False, max_length=KEY_MAX_LENGTH
        )
        if not self.is_bound:
            self.initial["form_key"] = form_key_issue(form_binding)

    def clean(self):
        cleaned = super().clean()
        if self.form_binding is not None and not cleaned.get("form_key"):
            # A hidden field's own error would not show: say it for the whole form.
            self.renew_form_key()
            raise forms.ValidationError(KEY_MISSING, code="form_key_missing")
        return cleaned

    def renew_form_key(self) -> None:
        """Put a fresh key into the bound data, so the form shown again is a new form."""
        data = self.data.copy()
        data[self.add_prefix("form_key")] = form_key_issue(self.form_binding)
        self.data = data

    def refuse(self, error, message: str | None = None) -> None:
        """Show a refused sending (``SubmissionRefused``) on the form, which keeps what was
        typed, and give it a fresh key: saving it again is a new, deliberate sending."""
        self.renew_form_key()
        self.add_error(None, message or error.messages)
