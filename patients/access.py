"""Who may see which patient. Every patient-scoped view goes through these functions.

A therapist sees the patients they are the primary therapist of; a clinic admin sees every
patient of their own clinic; nobody sees another clinic's patients. A record that is
missing and a record that is forbidden give the same answer: 404.
"""

from django.db.models import QuerySet
from django.http import Http404

from ipt_clinic import rows

from .models import LifeEvent, Patient, Relationship


class RecordRefused(Http404):
    """The access helpers' 404: the visitor gets the same page whether the record is missing
    or forbidden, while ``patients.middleware.RefusalAuditMiddleware`` audits the refusal
    (who asked for which record, from where). ``record_id`` is the id as asked for."""

    def __init__(self, message: str, *, model: type, record_id) -> None:
        super().__init__(message)
        self.model = model
        self.record_id = record_id


def patients_visible_to(user, within: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """The patients ``user`` may see (of ``within``, a queryset of patients, if given)."""
    patients = Patient.objects.all() if within is None else within
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.clinic_id is None:
        return patients.none()
    patients = patients.filter(clinic_id=user.clinic_id)
    if user.is_clinic_admin:
        return patients
    return patients.filter(primary_therapist_id=user.pk)


def get_patient_for_user(
    user,
    patient_id,
    *,
    related: tuple[str, ...] = ("primary_therapist", "clinic"),
    within: QuerySet[Patient] | None = None,
) -> Patient:
    """The patient, if ``user`` may see them; otherwise Http404. Read with ``related`` (the
    therapist and the clinic unless the page says it needs fewer), from ``within`` (a query
    of patients with what the page reads along) if given."""
    patients = patients_visible_to(user, within=within)
    if related:
        patients = patients.select_related(*related)
    try:
        return patients.get(pk=int(patient_id))
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise RecordRefused("No such patient.", model=Patient, record_id=patient_id) from None


def scoped_to_user(queryset: QuerySet, user, patient_path: str = "patient") -> QuerySet:
    """Restrict any clinical queryset (rows carrying ``clinic`` and a path to the patient) to
    what ``user`` may see. Filters by clinic first so the clinic-leading indexes are used."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.clinic_id is None:
        return queryset.none()
    queryset = queryset.filter(clinic_id=user.clinic_id)
    if user.is_clinic_admin:
        return queryset
    return queryset.filter(**{f"{patient_path}__primary_therapist_id": user.pk})


def get_scoped_or_404(queryset: QuerySet, user, pk, patient_path: str = "patient"):
    """Fetch one clinical row by id through ``scoped_to_user``; 404 when missing or forbidden."""
    try:
        return scoped_to_user(queryset, user, patient_path).get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise RecordRefused("Not found.", model=queryset.model, record_id=pk) from None


def get_relationship_for_user(user, relationship_id):
    """A person of a visible patient's inventory (removed ones too); otherwise Http404."""
    return get_scoped_or_404(
        Relationship.objects.select_related("patient", "patient__primary_therapist"),
        user,
        relationship_id,
    )


def get_life_event_for_user(user, life_event_id):
    """A life event of a visible patient; otherwise Http404."""
    return get_scoped_or_404(
        LifeEvent.objects.select_related("patient", "patient__primary_therapist"),
        user,
        life_event_id,
    )


def scoped_record_pk(user, model, record_id) -> int:
    """The id a fixed statement reading ``model``'s record ``record_id`` for ``user`` looks up,
    after the refusals ``get_scoped_or_404`` makes before its query (no active user of a
    clinic, an id that is not a number or that no column holds): ``RecordRefused`` for them."""
    refused = RecordRefused("Not found.", model=model, record_id=record_id)
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.clinic_id is None:
        raise refused
    try:
        pk = int(record_id)
    except (ValueError, TypeError):
        raise refused from None
    if not rows.column_holds(model, pk):
        raise refused
    return pk
