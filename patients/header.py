"""The patient header: the few facts every page about a patient shows at the top (name,
record number, phase, "session x of N", next appointment, a risk badge while a flag is open).

The patient's name and record number are this app's; the rest belongs to the apps above it,
which register a provider from their ``ready()`` (phases: the active course and its phase;
sessions: the next appointment and open risk flags). A provider takes the patient and returns
the facts it adds, in a fixed number of queries.
"""

from collections.abc import Callable

from .models import Patient

_providers: dict[str, Callable[[Patient], dict]] = {}


def register_header_part(name: str, provider: Callable[[Patient], dict]) -> None:
    """Called from an app's ``ready()``; registering a name again replaces it."""
    _providers[name] = provider


def patient_header(patient: Patient) -> dict:
    facts: dict = {"patient": patient}
    for provider in _providers.values():
        facts.update(provider(patient))
    return facts
