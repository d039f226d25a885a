"""The therapist's home names patients in every panel (risk flags, today, close-out, next
appointments, the caseload by phase, the portal's news): its one audit event lists them all.

Found by the kind of row each panel holds rather than by panel, so a panel that another area
adds to the home (``caseload/home.py``) is listed without a change here as long as it shows
patients, courses, sessions or items with a ``patient``."""

from collections.abc import Iterator

from django.http import HttpRequest

from patients.models import Patient
from patients.services import record_list_view
from phases.models import TreatmentCourse
from sessions.models import TherapySession

from .home_selectors import PhaseGroup


def _patient_ids(value) -> Iterator[int]:
    if isinstance(value, Patient):
        yield value.pk
    elif isinstance(value, TreatmentCourse):
        yield value.patient_id
    elif isinstance(value, TherapySession):
        yield value.course.patient_id  # read with the session (select_related)
    elif isinstance(value, PhaseGroup):
        yield from (course.patient_id for course in value.courses)
    elif isinstance(getattr(value, "patient", None), Patient):
        yield value.patient.pk
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _patient_ids(item)


def patients_on_home(context: dict) -> set[int]:
    """The ids of every patient the home page's ``context`` shows."""
    return {pk for value in context.values() for pk in _patient_ids(value)}


def record_home_view(request: HttpRequest, context: dict) -> None:
    record_list_view(
        request=request, patient_ids=patients_on_home(context), summary="Therapist home viewed"
    )
