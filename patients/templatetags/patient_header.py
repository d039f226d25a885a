"""``{% patient_header %}``: the patient header (``patients.header``) of the page's patient,
found in the page's context as ``patient``, or through its ``course``, ``session``, ``note``
or ``measure``.

On a page answering a GET, the courses the page read (its ``course``, those on the way to
the patient, or ``header_known`` where the page says what it read) are handed to the header's providers,
which then need not read them again; after a POST the header reads for itself, since what a
refused change left on the page's objects is not what was saved."""

from django import template

from patients.header import NOTHING_KNOWN, Known
from patients.header import patient_header as facts_for

register = template.Library()

_PATHS = (
    ("course", ("patient",)),
    ("session", ("course", "patient")),
    ("note", ("session", "course", "patient")),
    ("measure", ("course", "patient")),
)


def _patient_and_courses(context):
    """The page's patient, and the courses met on the way to it (nothing is read for them:
    the way is the one the page's own objects lead, as before)."""
    courses = [context["course"]] if context.get("course") is not None else []
    patient = context.get("patient")
    if patient is not None:
        return patient, courses
    for name, path in _PATHS:
        found = context.get(name)
        for attribute in path:
            if attribute == "patient" and found is not None:
                courses.append(found)
            found = getattr(found, attribute, None)
        if found is not None:
            return found, courses
    return None, courses


def _known(context, courses) -> Known:
    request = context.get("request")
    if request is None or request.method not in ("GET", "HEAD"):
        return NOTHING_KNOWN
    known = context.get("header_known")
    if isinstance(known, Known):
        return known
    return Known(courses=courses)


@register.inclusion_tag("patients/_header.html", takes_context=True)
def patient_header(context):
    patient, courses = _patient_and_courses(context)
    if patient is None or not getattr(patient, "pk", None):
        return {"header": None}
    request = context.get("request")
    header = facts_for(patient, _known(context, courses))
    if header.get("next_session"):
        header["time_zone"] = _time_zone(patient, request)
    return {"header": header, "request": request}


def _time_zone(patient, request) -> str:
    """The clinic's time zone: the signed-in user's clinic (read with the user) is the
    patient's on every staff page; the patient's own otherwise."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.clinic_id == patient.clinic_id:
        return user.clinic.time_zone
    return patient.clinic.time_zone
