from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm

from ipt_clinic.editing import VersionedForm

from .models import REMINDER_LEAD_HOURS_MAX, Clinic, User, minutes_label
from .services import CLINIC_SETTINGS_FIELDS


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


class PasswordResetRequestForm(forms.Form):
    """The "forgot password" form: the address a reset link goes to, if an account uses it."""

    email = forms.EmailField(
        label="Your work email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(SetPasswordForm):
    """Choose a new password through a reset link (Django's validators apply)."""


def _time_zone_choices(current: str) -> list:
    """Every IANA zone named Region/City, grouped by region (the select's type-ahead finds
    "Europe/London" by typing it), and the clinic's own even if it is an older alias."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and name.split("/", 1)[0] in _ZONE_REGIONS
    }
    names.add(current)
    groups: dict[str, list] = {}
    for name in sorted(names):
        groups.setdefault(name.split("/", 1)[0], []).append((name, name.replace("_", " ")))
    return [("", "Choose a time zone")] + list(groups.items())


_ZONE_REGIONS = {
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
}

ESCALATION_CHOICES = [
    (minutes, minutes_label(minutes))
    for minutes in (15, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
]


class ClinicSettingsForm(VersionedForm, forms.ModelForm):
    """The clinic admin's settings page. The model's own rules (``Clinic.clean``: quiet hours
    of the night, a crisis line with its number, a duty contact who can be reached) give the
    messages; the service (``clinic_settings_update``) writes and audits what changed."""

    class Meta:
        model = Clinic
        fields = CLINIC_SETTINGS_FIELDS
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "duty_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "emergency_number": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "crisis_line_number": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }
        labels = {
            "time_zone": "Time zone",
            "reminder_lead_hours": "Reminder sent this many hours before a session",
            "quiet_hours_start": "Quiet hours from",
            "quiet_hours_end": "Quiet hours until",
            "sender_name": "Sender name on patients' emails",
            "phone": "Clinic phone number (shown to patients)",
            "duty_staff": "Member of staff on duty",
            "duty_name": "Duty contact's name",
            "duty_email": "Duty contact's email",
            "duty_phone": "Duty contact's mobile",
            "escalation_minutes": "Alert again if a risk flag is not acknowledged within",
            "emergency_number": "Emergency number",
            "crisis_line_name": "Crisis line",
            "crisis_line_number": "Crisis line's number",
        }
        help_texts = {
            "reminder_lead_hours": "From 1 to 168 (a week).",
            "quiet_hours_start": None,
            "quiet_hours_end": None,
            "duty_staff": None,
            "duty_phone": "For text alerts.",
            "phone": "Blank: patients are given no clinic number.",
            "escalation_minutes": "The clinic admins and the duty contact are alerted again.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        clinic = self.instance
        fields = self.fields
        fields["time_zone"] = forms.ChoiceField(
            label="Time zone",
            choices=_time_zone_choices(clinic.time_zone),
            help_text="Sessions, reminders and quiet hours follow it. Changing it keeps every "
            "booked session at the same moment, shown in the new zone's time.",
            error_messages={
                "invalid_choice": "Choose a time zone from the list (its IANA name, such as "
                "Europe/London).",
                "required": "Choose the clinic's time zone.",
            },
        )
        escalation = dict(ESCALATION_CHOICES)
        escalation.setdefault(clinic.escalation_minutes, minutes_label(clinic.escalation_minutes))
        fields["escalation_minutes"] = forms.TypedChoiceField(
            label=fields["escalation_minutes"].label,
            help_text=fields["escalation_minutes"].help_text,
            choices=sorted(escalation.items()),
            coerce=int,
        )
        fields["duty_staff"].queryset = User.objects.filter(
            clinic_id=clinic.pk, is_active=True, deactivated_at=None
        ).order_by("last_name", "first_name", "pk")
        fields["duty_staff"].label_from_instance = lambda member: (
            f"{member.display_name} ({member.get_role_display().lower()}, {member.email})"
        )
        fields["duty_staff"].empty_label = "No one in particular"
        fields["duty_staff"].help_text = (
            "Their email is used unless another is given below; a mobile number is needed "
            "for text alerts."
        )
        fields["sender_name"].widget.attrs["placeholder"] = clinic.name
        fields["sender_name"].help_text = f"Blank: the clinic's name ({clinic.name})."
        fields["emergency_number"].widget.attrs["placeholder"] = settings.PORTAL_EMERGENCY_NUMBER
        fields["emergency_number"].help_text = (
            f"Blank: {settings.PORTAL_EMERGENCY_NUMBER}. Patients who report thoughts of "
            "self-harm are told to call it in an emergency."
        )
        if settings.PORTAL_CRISIS_LINE_NUMBER:
            fields["crisis_line_name"].widget.attrs["placeholder"] = (
                settings.PORTAL_CRISIS_LINE_NAME
            )
            fields["crisis_line_number"].widget.attrs["placeholder"] = (
                settings.PORTAL_CRISIS_LINE_NUMBER
            )
            fields[
                "crisis_line_number"
            ].help_text = (
                f"Blank: {settings.PORTAL_CRISIS_LINE_NAME}, {settings.PORTAL_CRISIS_LINE_NUMBER}."
            )
        for name in ("reminder_lead_hours",):
            fields[name].widget.attrs.update(min=1, max=REMINDER_LEAD_HOURS_MAX)
