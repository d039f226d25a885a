"""The discharge letter's access helpers, through ``patients.access``: whoever may see the
patient reads the letter (the course's therapist, the clinic admin); only the course's
therapist drafts, edits and signs it. Anything else is a 404."""

from patients.access import RecordRefused, get_scoped_or_404
from phases.access import get_course_for_user

from .models import DischargeLetter


def get_letter_for_user(user, letter_id) -> DischargeLetter:
    return get_scoped_or_404(
        DischargeLetter.objects.select_related(
            "course", "course__patient", "course__therapist", "course__clinic", "signed_by"
        ),
        user,
        letter_id,
        patient_path="course__patient",
    )


def get_letter_for_its_writer(user, letter_id) -> DischargeLetter:
    letter = get_letter_for_user(user, letter_id)
    if letter.course.therapist_id != user.pk:
        raise RecordRefused("Not found.", model=DischargeLetter, record_id=letter_id)
    return letter


def get_course_for_letter_writer(user, course_id):
    course = get_course_for_user(user, course_id)
    if course.therapist_id != user.pk:
        raise RecordRefused("Not found.", model=type(course), record_id=course_id)
    return course
