"""The clinic admin's Settings page: the clinic's time zone, reminders, patients' quiet hours,
sender name, the numbers patients are given, and who hears of a risk flag and when.

The clinic row belongs to the accounts (``clinic_settings_update`` checks, writes and audits
it); what this entry point adds is what the lower layers cannot do for themselves: a new
time zone moves every therapist's attendance weeks (Monday to Sunday, clinic time), so they
are worked out again in the same transaction, and the dashboard's kept figures (whose weeks and
days move too) on its next request.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ipt_clinic.accounts.forms import ClinicSettingsForm
from ipt_clinic.accounts.models import Clinic, User
from ipt_clinic.accounts.services import clinic_settings_update
from ipt_clinic.editing import StaleEditError
from patients.forms import add_service_errors
from sessions.attendance import rebuild_attendance_weeks

from .admin_access import clinic_admin_required
from .figures import figures_mark_clinic


def clinic_settings_save(
    *, clinic: Clinic, by: User, expected_version: int, request=None, **fields
) -> dict[str, list]:
    """``clinic_settings_update``, and the attendance weeks worked out again when the time
    zone changed, all or nothing. Returns the changes (``{field: [old, new]}``)."""
    with transaction.atomic():
        changes = clinic_settings_update(
            clinic=clinic, by=by, expected_version=expected_version, request=request, **fields
        )
        if "time_zone" in changes:
            rebuild_attendance_weeks(clinic.pk, clinic.tz)
            figures_mark_clinic(clinic_id=clinic.pk)
    return changes


@clinic_admin_required
def clinic_settings(request: HttpRequest) -> HttpResponse:
    # The form gets a row of its own: its checks write what was typed into the instance it
    # edits, while the page beside it says what is in use (``clinic``, as stored).
    clinic = Clinic.objects.get(pk=request.user.clinic_id)
    form = ClinicSettingsForm(request.POST or None, instance=Clinic.objects.get(pk=clinic.pk))
    if request.method == "POST" and form.is_valid():
        try:
            changes = clinic_settings_save(
                clinic=form.instance,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "Settings saved." if changes else "Nothing was changed: nothing to save."
            )
            return redirect("caseload:clinic_settings")
    return render(
        request,
        "caseload/clinic_settings.html",
        {"form": form, "clinic": clinic},
        status=409 if form.conflict else 200,
    )
