"""Reads of discharge letters, for the pages that list them."""

import functools

from django.db.models import F, QuerySet

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


@functools.cache
def _patient_letters() -> QuerySet[DischargeLetter]:
    """The section's read but for whose letters: built once per process and only ever
    chained from (``.filter()`` returns a copy); with the columns the section shows (a
    letter is a wide row: its texts) and its course's start (``course_start_date``)."""
    return (
        DischargeLetter.objects.only(
            "clinic_id", "course_id", "recipient_name", "recipient_role", "signed_at"
        )
        .annotate(course_start_date=F("course__start_date"))
        .order_by("created_at", "id")
    )


def patient_letters_context(patient, *, courses=None) -> dict:
    """The patient page's section: the letters of all the patient's courses. A letter is
    written only once its course has ended (``services.letter_draft``), and an ended course
    never runs again: when the page's ``courses`` (all the patient's) hold no ended one,
    there is no letter to read."""
    if courses is not None and not any(c.status in ENDED_STATUSES for c in courses):
        return {"patient_letters": []}
    return {
        "patient_letters": list(
            _patient_letters().filter(clinic_id=patient.clinic_id, course__patient_id=patient.pk)
        )
    }
