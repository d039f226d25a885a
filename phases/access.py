"""One access helper per model of the course. Each goes through ``patients.access``:
a therapist reaches the courses of the patients they treat, a clinic admin every course of
their clinic; anything else is a 404."""

from patients.access import get_scoped_or_404

from .models import Goal, ProblemArea, TreatmentCourse


def get_course_for_user(user, course_id) -> TreatmentCourse:
    return get_scoped_or_404(
        TreatmentCourse.objects.select_related(
            "patient", "patient__primary_therapist", "therapist", "clinic"
        ),
        user,
        course_id,
    )


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
