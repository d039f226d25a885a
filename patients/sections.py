"""Sections the apps above add to the patient's page.

The patient's page is this app's, but some of what it lists belongs to apps above it (the
discharge letters of the patient's courses). Rather than the page reaching up for them, such
an app registers a section here from its ``ready()``: a template and a function giving its
context for the patient. The function is also handed the patient's courses as the page read
them (``courses``: all of them), so that it need not read what it can tell from them.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PatientSection:
    template: str
    context: Callable[..., dict]  # context(patient, courses=...) -> dict


_sections: dict[str, PatientSection] = {}


def register_patient_section(*, template: str, context: Callable[..., dict]) -> None:
    """Called from an app's ``ready()``; registering a template again replaces it."""
    _sections[template] = PatientSection(template=template, context=context)


def patient_sections(patient, *, courses=None) -> list[tuple[str, dict]]:
    """Each section's template and context; ``courses``: all the patient's courses, as the
    page read them, or None when the page did not read them."""
    return [
        (section.template, section.context(patient, courses=courses))
        for section in _sections.values()
    ]
