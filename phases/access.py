"""One access helper per model of the course. Each goes through ``patients.access``:
a therapist reaches the courses of the patients they treat, a clinic admin every course of
their clinic; anything else is a 404."""

import functools

from patients.access import get_scoped_or_404

from .models import Goal, ProblemArea, TreatmentCourse
from .selectors import course_page_row


def _courses():
    return TreatmentCourse.objects.select_related(
        "patient", "patient__primary_therapist", "therapist", "clinic"
    )


def get_course_for_user(user, course_id) -> TreatmentCourse:
    return get_scoped_or_404(_courses(), user, course_id)


@functools.cache
def _course_page_courses():
    """The course page's read of its course but for which: built once per process (its joins
    and EXISTS cost about a millisecond to put together) and only ever chained from
    (``get_scoped_or_404`` filters a copy), as a generic view's ``queryset`` is."""
    # The page names the course's therapist; the patient's own is not shown: not joined.
    return course_page_row(TreatmentCourse.objects.select_related("patient", "therapist", "clinic"))


def get_course_page_for_user(user, course_id) -> TreatmentCourse:
    """The course as its page reads it (``selectors.course_page_row``), through the same
    check. The patient's clinic is the course's (every row carries its patient's clinic):
    given the one read, the page's header does not read it again."""
    course = get_scoped_or_404(_course_page_courses(), user, course_id)
    if course.patient.clinic_id == course.clinic_id:
        course.patient.clinic = course.clinic
    return course


def get_problem_area_for_user(user, problem_area_id) -> ProblemArea:
    return get_scoped_or_404(
        ProblemArea.objects.select_related("course", "course__patient"),
        user,
        problem_area_id,
        patient_path="course__patient",
    )


def get_goal_for_user(user, goal_id) -> Goal:
    return get_scoped_or_404(
        Goal.objects.select_related("course", "course__patient", "problem_area"),
        user,
        goal_id,
        patient_path="course__patient",
    )
