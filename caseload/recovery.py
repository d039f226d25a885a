"""Outcomes as services report them (recovery, reliable improvement, reliable recovery,
reliable deterioration), counted over a clinic's finished courses per therapist, per primary
problem area and for the clinic, in a constant number of queries.

A finished course ended (completed or dropped out) in the period and has a questionnaire
(PHQ-9 or GAD-7) taken at two or more attended sessions. The scores of an attended session
are the questionnaires entered under it and those the patient filled in through the portal
(under no session) in the week before it; a corrected questionnaire counts as its correction
(the superseded one is never read). Each questionnaire's first and last are its totals at the
first and the last such session; at a session with two of the same, the later one counts.

Inside the clinic's own view every count shows; in the CSV the small-cell rule of
``caseload.outcomes`` holds (fewer than ``MIN_CELL`` patients: "<5", and the rate hidden).
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F
from django.db.models.functions import Coalesce

from ipt_clinic.accounts.models import User
from phases.models import CourseStatus, ProblemArea, ProblemAreaKind, TreatmentCourse
from sessions.models import Measure, SessionStatus, TherapySession

from .outcomes import MIN_CELL, SUPPRESSED, period_bounds
from .recovery_rules import (
    GAD7_CASE,
    GAD7_RELIABLE,
    PHQ9_CASE,
    PHQ9_RELIABLE,
    Scores,
    is_case,
    is_recovered,
    is_reliably_deteriorated,
    is_reliably_improved,
    is_reliably_recovered,
)

# A questionnaire filled in through the portal counts for the next attended session within
# this time (the portal asks for it before a session).
PORTAL_AHEAD = timedelta(days=7)

RECOVERY_RULES = [
    (
        "Finished course",
        "ended (completed or dropped out) in the period, with the PHQ-9 or the GAD-7 taken at "
        "two or more attended sessions; first and last scores are those of the first and the "
        "last of these sessions.",
    ),
    (
        "Case at the start",
        f"PHQ-9 of {PHQ9_CASE} or more, or GAD-7 of {GAD7_CASE} or more, at the first scored "
        "session.",
    ),
    (
        "Recovery",
        f"a case at the start, with PHQ-9 below {PHQ9_CASE} and GAD-7 below {GAD7_CASE} at the "
        "last scored session; counted out of the cases at the start.",
    ),
    (
        "Reliable improvement",
        f"PHQ-9 down by {PHQ9_RELIABLE} or more, or GAD-7 down by {GAD7_RELIABLE} or more, and "
        "neither up by as much; counted out of all finished courses.",
    ),
    (
        "Reliable recovery",
        "both recovery and reliable improvement; counted out of the cases at the start.",
    ),
    (
        "Reliable deterioration",
        f"PHQ-9 up by {PHQ9_RELIABLE} or more, or GAD-7 up by {GAD7_RELIABLE} or more, and "
        "neither down by as much; counted out of all finished courses.",
    ),
    (
        "One questionnaire only",
        "a course with only the PHQ-9 taken at two sessions is judged on the PHQ-9 alone (the "
        "same for the GAD-7).",
    ),
    (
        "Scores",
        "a corrected questionnaire counts as its correction; one filled in through the portal "
        "counts for the next attended session within 7 days.",
    ),
]


@dataclass(frozen=True)
class FinishedCourse:
    course_id: int
    patient_id: int
    scores: Scores


# (key, heading, the rule that says whether a course is counted, denominator key)
MEASURES = [
    ("recovered", "Recovery", is_recovered, "cases"),
    ("reliably_improved", "Reliable improvement", is_reliably_improved, "finished"),
    ("reliably_recovered", "Reliable recovery", is_reliably_recovered, "cases"),
    ("reliably_deteriorated", "Reliable deterioration", is_reliably_deteriorated, "finished"),
]


@dataclass
class RecoveryGroup:
    label: str
    courses: list[FinishedCourse] = field(default_factory=list)

    def counted(self, key: str) -> list[FinishedCourse]:
        if key == "finished":
            return self.courses
        if key == "cases":
            return [c for c in self.courses if is_case(c.scores)]
        rule = next(rule for name, _, rule, _ in MEASURES if name == key)
        return [c for c in self.courses if rule(c.scores)]

    def count(self, key: str) -> int:
        return len(self.counted(key))

    @property
    def cells(self) -> list[str]:
        """The row as the clinic's own page shows it: every count, with its denominator and
        share ("4 of 9 (44%)")."""
        finished = self.count("finished")
        cases = self.count("cases")
        row = [str(finished), _share(cases, finished)]
        for key, _, _, denominator in MEASURES:
            row.append(_share(self.count(key), cases if denominator == "cases" else finished))
        return row

    def suppressed_cell(self, key: str) -> str:
        courses = self.counted(key)
        if len({c.patient_id for c in courses}) < MIN_CELL:
            return SUPPRESSED
        return str(len(courses))

    def export_row(self) -> dict[str, str]:
        """The row as exported: a count of fewer than ``MIN_CELL`` patients shows "<5", and a
        rate is given only when both its count and its denominator are shown."""
        row = {"group": self.label}
        for key in ("finished", "cases"):
            row[key] = self.suppressed_cell(key)
        for key, _, _, denominator in MEASURES:
            row[key] = self.suppressed_cell(key)
            hidden = SUPPRESSED in (row[key], row[denominator])
            row[f"{key}_rate"] = (
                "—" if hidden else _percent(self.count(key), self.count(denominator))
            )
        return row


def _percent(count: int, of: int) -> str:
    return "—" if not of else f"{round(count * 100 / of)}%"


def _share(count: int, of: int) -> str:
    return f"{count} of {of}" if not of else f"{count} of {of} ({_percent(count, of)})"


EXPORT_COLUMNS = [
    "group",
    "finished",
    "cases",
    *[name for key, _, _, _ in MEASURES for name in (key, f"{key}_rate")],
]
PAGE_COLUMNS = [
    "Finished courses",
    "Cases at the start (of finished)",
    *[
        f"{heading} (of {'cases' if denominator == 'cases' else 'finished'})"
        for _, heading, _, denominator in MEASURES
    ],
]


@dataclass
class Recovery:
    ended: int  # courses that ended in the period, finished or not
    clinic: RecoveryGroup
    by_therapist: list[RecoveryGroup]
    by_problem_area: list[RecoveryGroup]

    @property
    def patient_ids(self) -> set[int]:
        return {c.patient_id for c in self.clinic.courses}


def _first_and_last(sessions: list[tuple], measures: list[tuple]) -> Scores | None:
    """One course's scores from its attended sessions ``(start, id)`` (in order) and its
    current questionnaires ``(session_id, instrument, total, taken_at)`` (in order)."""
    starts = [start for start, _ in sessions]
    order = {session_id: index for index, (_, session_id) in enumerate(sessions)}
    by_session: dict[str, dict[int, int]] = {"phq9": {}, "gad7": {}}
    for session_id, instrument, total, taken_at in measures:
        if session_id is not None:
            index = order.get(session_id)  # None: a session not attended
        else:
            index = bisect_left(starts, taken_at)
            if index == len(starts) or starts[index] - taken_at > PORTAL_AHEAD:
                index = None
        if index is not None:
            by_session[instrument][index] = total  # the later of two at one session
    pairs = {}
    for instrument, totals in by_session.items():
        if len(totals) >= 2:
            pairs[instrument] = (totals[min(totals)], totals[max(totals)])
    return Scores.of(**pairs) if pairs else None


def recovery_for_clinic(clinic_id: int, tz: ZoneInfo, date_from: date, date_to: date) -> Recovery:
    """The clinic's finished courses over the period, counted (five queries, however many)."""
    start, end = period_bounds(date_from, date_to, tz)
    ended = (
        TreatmentCourse.objects.filter(
            clinic_id=clinic_id, status__in=[CourseStatus.COMPLETED, CourseStatus.DROPPED_OUT]
        )
        .annotate(ended=Coalesce(F("ended_at"), F("updated_at")))
        .filter(ended__gte=start, ended__lt=end)
    )
    courses = list(ended.order_by("pk").values_list("pk", "patient_id", "therapist_id"))
    ended_ids = ended.values("pk")

    sessions: dict[int, list[tuple]] = defaultdict(list)
    for course_id, session_id, scheduled_start in (
        TherapySession.objects.filter(
            clinic_id=clinic_id, course_id__in=ended_ids, status=SessionStatus.ATTENDED
        )
        .order_by("course_id", "scheduled_start", "id")
        .values_list("course_id", "id", "scheduled_start")
    ):
        sessions[course_id].append((scheduled_start, session_id))
    measures: dict[int, list[tuple]] = defaultdict(list)
    for course_id, *values in (
        Measure.objects.filter(
            clinic_id=clinic_id,
            course_id__in=ended_ids,
            instrument__in=("phq9", "gad7"),
            superseded_at__isnull=True,
        )
        .order_by("course_id", "taken_at", "id")
        .values_list("course_id", "session_id", "instrument", "total", "taken_at")
    ):
        measures[course_id].append(tuple(values))
    primary: dict[int, str] = {}
    for course_id, kind in (
        ProblemArea.objects.filter(
            clinic_id=clinic_id, course_id__in=ended_ids, removed_at__isnull=True
        )
        .order_by("course_id", "-is_primary", "id")
        .values_list("course_id", "kind")
    ):
        primary.setdefault(course_id, kind)

    clinic_group = RecoveryGroup(label="Clinic")
    by_therapist: dict[int, RecoveryGroup] = {}
    by_area = {kind: RecoveryGroup(label=label) for kind, label in ProblemAreaKind.choices}
    no_area = RecoveryGroup(label="No problem area recorded")
    finished_therapists = set()
    for course_id, patient_id, therapist_id in courses:
        scores = _first_and_last(sessions[course_id], measures[course_id])
        if scores is None:
            continue
        course = FinishedCourse(course_id=course_id, patient_id=patient_id, scores=scores)
        clinic_group.courses.append(course)
        by_therapist.setdefault(therapist_id, RecoveryGroup(label="")).courses.append(course)
        finished_therapists.add(therapist_id)
        by_area.get(primary.get(course_id), no_area).courses.append(course)
    names = {
        member.pk: member.display_name for member in User.objects.filter(pk__in=finished_therapists)
    }
    for therapist_id, group in by_therapist.items():
        group.label = names.get(therapist_id) or "—"
    return Recovery(
        ended=len(courses),
        clinic=clinic_group,
        by_therapist=sorted(by_therapist.values(), key=lambda g: g.label.lower()),
        by_problem_area=[*by_area.values(), *([no_area] if no_area.courses else [])],
    )
