"""``{% patient_header %}``: the patient header (``patients.header``) of the page's patient,
found in the page's context as ``patient``, or through its ``course``, ``session``, ``note``
or ``measure``."""

from django import template

from patients.header import patient_header as facts_for

register = template.Library()


def _patient_of(context):
    patient = context.get("patient")
    if patient is not None:
        return patient
    for name, path in (
        ("course", ("patient",)),
        ("session", ("course", "patient")),
        ("note", ("session", "course", "patient")),
        ("measure", ("course", "patient")),
    ):
        found = context.get(name)
        for attribute in path:
            found = getattr(found, attribute, None)
        if found is not None:
            return found
    return None


@register.inclusion_tag("patients/_header.html", takes_context=True)
def patient_header(context):
    patient = _patient_of(context)
    if patient is None or not getattr(patient, "pk", None):
        return {"header": None}
    return {"header": facts_for(patient), "request": context.get("request")}
