"""The patient header: the few facts every page about a patient shows at the top (name,
record number, phase, "session x of N", next appointment, a risk badge while a flag is open).

The patient's name and record number are this app's; the rest belongs to the apps above it,
which register a provider from their ``ready()`` (phases: the active course and its phase;
sessions: the next appointment and open risk flags). A provider takes the patient, the facts
the providers before it gave (``facts``: phases' come first) and what the page has already
read (``known``), and returns the facts it adds, in a fixed number of queries: fewer when
``known`` or ``facts`` already hold what it would read.

A provider may also offer ``patient_annotations()``: annotations of a query of patients
(subqueries on ``OuterRef("pk")``, nothing that depends on the time) giving what it would
read, by the names it reads them back from the patient. A page that reads its patient anyway
reads them along (``with_header_annotations``), and the provider reads nothing more; a list
of patients reads a provider's ``list_annotations()`` (one value per row, no count).
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import Patient


@dataclass(frozen=True)
class Known:
    """What the page read in this request, for the providers to use rather than read again:
    ``courses``, course rows of the patient as the page read them (a course page's course, or
    all of them); ``all_courses``, whether they are every course of the patient."""

    courses: Sequence = ()
    all_courses: bool = False


NOTHING_KNOWN = Known()

_providers: dict[str, Callable[..., dict]] = {}


def register_header_part(name: str, provider: Callable[..., dict]) -> None:
    """Called from an app's ``ready()``; registering a name again replaces it. The provider
    is called as ``provider(patient, facts=..., known=...)``."""
    _providers[name] = provider


def header_annotations(kind: str = "patient_annotations") -> dict:
    """The providers' ``patient_annotations()`` (or ``list_annotations()``: the few a list
    row shows, such as the risk badge's first open flag), for a query of patients."""
    annotations: dict = {}
    for provider in _providers.values():
        if hasattr(provider, kind):
            annotations.update(getattr(provider, kind)())
    return annotations


@functools.cache
def with_header_annotations() -> QuerySet[Patient]:
    """Patients with the providers' ``patient_annotations()``: built once per process (after
    every app registered its provider) and only ever chained from (``.filter()`` returns a
    copy), as a generic view's ``queryset`` is."""
    return Patient.objects.annotate(**header_annotations())


def patient_header(patient: Patient, known: Known = NOTHING_KNOWN) -> dict:
    facts: dict = {"patient": patient}
    for provider in _providers.values():
        facts.update(provider(patient, facts=facts, known=known))
    return facts
