"""The first draft of a discharge letter, in words, from the course's record.

Every figure is read where the rest of the app keeps it: the course's kept counts and scores,
and the response and remission judged by ``phases.services.course_outcome`` (the rule the
ending page and the outcome panel use), so the letter cannot say something the course page
does not.
"""

from dataclasses import dataclass

from django.utils import formats, timezone

from phases.models import ProblemAreaKind, TreatmentCourse
from phases.services import course_outcome
from sessions.scoring import severity_for

ENDED_STATUSES = ("completed", "dropped_out")


@dataclass(frozen=True)
class Draft:
    course_summary: str
    problem_areas: str
    formulation: str
    outcome: str
    warning_signs: str
    recommendations: str


def _day(value) -> str:
    return formats.date_format(value, "j F Y")


def course_end_date(course: TreatmentCourse):
    if course.ended_at is None:
        return None
    return timezone.localdate(course.ended_at, timezone=course.clinic.tz)


def _course_summary(course: TreatmentCourse) -> str:
    patient = course.patient
    kind = (
        "maintenance Interpersonal Psychotherapy (IPT)"
        if course.is_maintenance
        else ("Interpersonal Psychotherapy (IPT)")
    )
    end = course_end_date(course)
    ended = f" to {_day(end)}" if end else ""
    if course.status == "dropped_out":
        reason = course.end_reason.strip().rstrip(".") or "the patient stopped attending"
        how = f"The course ended early: {reason}."
    else:
        how = "The course was completed as planned."
    held = course.sessions_attended
    return (
        f"{patient.full_name} had a course of {kind} with me from {_day(course.start_date)}"
        f"{ended}. {held} of the {course.planned_sessions} sessions agreed were held"
        f" ({course.get_frequency_display().lower()}, {course.session_minutes} minutes each). "
        f"{how}"
    ).strip()


def _problem_areas(course: TreatmentCourse) -> str:
    areas = [area for area in course.problem_areas.all() if area.removed_at is None]
    if not areas:
        return "No problem area was agreed."
    lines = []
    for area in areas:
        words = area.get_kind_display()
        if area.kind == ProblemAreaKind.ROLE_DISPUTE and area.other_party_id:
            stage = f", {area.get_dispute_stage_display().lower()}" if area.dispute_stage else ""
            words += f" (with {area.other_party.name}{stage})"
        elif area.kind == ProblemAreaKind.GRIEF and area.deceased_id:
            words += f" (the death of {area.deceased.name})"
        if area.is_primary and len(areas) > 1:
            words += " — the main focus"
        lines.append(f"- {words}")
    return "\n".join(lines)


def _score_line(name: str, start: int | None, end: int | None) -> str:
    if start is None and end is None:
        return f"{name}: not measured."
    if start is None:
        return f"{name}: {end} at the end (no score at the start)."
    if end is None:
        return f"{name}: {start} at the start (no score since)."
    change = start - end
    if change > 0:
        moved = f"down {change} points"
    elif change < 0:
        moved = f"up {-change} points"
    else:
        moved = "unchanged"
    return f"{name}: {start} at the start, {end} at the end ({moved})."


def _wsas_line(start: int, end: int) -> str:
    """The WSAS (functioning, 0-40) with its bands, when the course measured it: a letter's
    reader may not know its scale."""
    line = _score_line("WSAS (Work and Social Adjustment Scale, 0-40)", start, end)
    bands = f"{severity_for('wsas', start)} at the start"
    if end is not None:
        bands += f", {severity_for('wsas', end)} at the end"
    return f"{line[:-1]}; {bands}."


def _outcome(course: TreatmentCourse) -> str:
    outcome = course_outcome(course)
    lines = [
        _score_line("PHQ-9", outcome.baseline, outcome.latest),
        _score_line("GAD-7", course.baseline_gad7, course.latest_gad7),
    ]
    if course.baseline_wsas is not None:
        lines.append(_wsas_line(course.baseline_wsas, course.latest_wsas))
    if outcome.response is None:
        lines.append("Response to treatment cannot be judged: there is no PHQ-9 to compare.")
    elif outcome.response:
        lines.append(
            f"This is a response to treatment: the PHQ-9 fell by {outcome.fall_percent}% "
            "(a fall of 50% or more)."
        )
    else:
        fall = outcome.fall_percent
        moved = f"fell by {fall}%" if fall >= 0 else f"rose by {-fall}%"
        lines.append(
            f"This is not a response to treatment: the PHQ-9 {moved} "
            "(a response is a fall of 50% or more)."
        )
    if outcome.remission is not None:
        lines.append(
            "The final PHQ-9 is below 5: in remission."
            if outcome.remission
            else "The final PHQ-9 is 5 or more: not in remission."
        )
    return "\n".join(lines)


def _relapse_plan(course: TreatmentCourse):
    try:
        return course.relapse_plan
    except TreatmentCourse.relapse_plan.RelatedObjectDoesNotExist:
        return None


def _recommendations(course: TreatmentCourse, plan) -> str:
    lines = []
    if course.ending_decision:
        decision = f"Decided at the end of the course: {course.get_ending_decision_display()}"
        if course.ending_decision == "none":
            decision = "Decided at the end of the course: no further treatment"
        reason = course.ending_decision_reason.strip()
        lines.append(decision + (f" — {reason}" if reason else "") + ".")
    if plan is not None and plan.if_symptoms_return.strip():
        lines.append(f"If symptoms return: {plan.if_symptoms_return.strip()}")
    if plan is not None and plan.maintenance_offered:
        lines.append("Maintenance sessions were offered.")
    if not lines:
        lines.append("No further treatment from this clinic is planned.")
    return "\n".join(lines)


def letter_draft_from_record(course: TreatmentCourse) -> Draft:
    """The letter's sections, in words, for an ended course (``ENDED_STATUSES``)."""
    plan = _relapse_plan(course)
    return Draft(
        course_summary=_course_summary(course),
        problem_areas=_problem_areas(course),
        formulation=course.formulation.strip() or "No formulation was recorded.",
        outcome=_outcome(course),
        warning_signs=(plan.warning_signs.strip() if plan else "")
        or "No relapse-prevention plan was written.",
        recommendations=_recommendations(course, plan),
    )
