from django import forms
from django.contrib.auth.forms import SetPasswordForm


class LoginForm(forms.Form):
    login = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    """The second step: a code from the authenticator app, or one recovery code."""

    code = forms.CharField(
        label="Verification code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


class EnrolForm(forms.Form):
    code = forms.RegexField(
        label="6-digit code from the app",
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": "Enter the 6 digits the app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


class InviteAcceptForm(SetPasswordForm):
    """Choose a password (Django's validators apply) to activate an invited account."""
