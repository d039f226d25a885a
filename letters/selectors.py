"""Reads of discharge letters, for the pages that list them."""

from .drafting import ENDED_STATUSES
from .models import DischargeLetter


def course_letters(course) -> list[DischargeLetter]:
    """The course's letters, oldest first, each with ``replaced``: whether a later letter
    supersedes it (read from the list itself, not a query per letter)."""
    letters = list(
        DischargeLetter.objects.filter(clinic_id=course.clinic_id, course=course).order_by(
            "created_at", "id"
        )
    )
    superseded = {letter.supersedes_id for letter in letters}
    for letter in letters:
        letter.replaced = letter.pk in superseded
    return letters


def course_letters_context(course, **_) -> dict:
    """The course page's panel: the course's letters, and whether one may be drafted. A
    course has letters only once it has ended (``services.letter_draft`` refuses any other,
    and an ended course never becomes active again): no query for an active one."""
    ended = course.status in ENDED_STATUSES
    return {"letters": course_letters(course) if ended else [], "letter_course_ended": ended}


def patient_letters_context(patient) -> dict:
    """The patient page's section: the letters of all the patient's courses."""
    return {
        "patient_letters": list(
            DischargeLetter.objects.filter(clinic_id=patient.clinic_id, course__patient=patient)
            .select_related("course", "signed_by")
            .order_by("created_at", "id")
        )
    }
