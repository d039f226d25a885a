"""Outcomes of ended courses over a period, by therapist and by problem area.

Small-cell suppression: a group counting fewer than ``MIN_CELL`` patients shows "<5" in place
of its count, and its medians and rates are not shown at all; the same rule holds in the CSV.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.db.models import F
from django.db.models.functions import Coalesce

from ipt_clinic.accounts.models import User
from phases.models import CourseStatus, ProblemArea, ProblemAreaKind, TreatmentCourse

MIN_CELL = 5
SUPPRESSED = "<5"
RESPONSE_DROP = 0.5  # a fall of at least half from baseline
REMISSION_BELOW = 5  # final PHQ-9 below 5

OUTCOME_RULES = (
    "Completed courses are those that ended (status completed) in the period; dropout rate is "
    "dropped-out courses among all courses that ended in the period. Response: final PHQ-9 at "
    f"least {int(RESPONSE_DROP * 100)}% below baseline. Remission: final PHQ-9 below "
    f"{REMISSION_BELOW}. Any group of fewer than {MIN_CELL} patients shows “{SUPPRESSED}” and "
    f"its medians and rates are hidden; so is the dropout rate when fewer than {MIN_CELL} "
    "patients dropped out."
)


@dataclass
class EndedCourse:
    course_id: int
    patient_id: int
    therapist_id: int
    status: str
    baseline: int | None
    final: int | None


@dataclass
class OutcomeGroup:
    label: str
    courses: list[EndedCourse] = field(default_factory=list)

    @property
    def completed(self) -> list[EndedCourse]:
        return [c for c in self.courses if c.status == CourseStatus.COMPLETED]

    @property
    def dropped_out(self) -> list[EndedCourse]:
        return [c for c in self.courses if c.status == CourseStatus.DROPPED_OUT]

    @staticmethod
    def _patients(courses: list[EndedCourse]) -> int:
        return len({c.patient_id for c in courses})

    @property
    def suppressed(self) -> bool:
        """Too few completed-course patients for any figure about them to be shown."""
        return self._patients(self.completed) < MIN_CELL

    def cell(self, courses: list[EndedCourse]) -> str:
        n = self._patients(courses)
        return SUPPRESSED if n < MIN_CELL else str(n)

    @property
    def completed_cell(self) -> str:
        return self.cell(self.completed)

    @property
    def dropped_out_cell(self) -> str:
        return self.cell(self.dropped_out)

    @property
    def ended_cell(self) -> str:
        return self.cell(self.courses)

    def _scored(self) -> list[EndedCourse]:
        return [c for c in self.completed if c.baseline is not None and c.final is not None]

    def _hidden(self, courses: list[EndedCourse]) -> bool:
        return self.suppressed or self._patients(courses) < MIN_CELL

    @property
    def median_baseline(self) -> float | None:
        values = [c for c in self.completed if c.baseline is not None]
        return None if self._hidden(values) else median(c.baseline for c in values)

    @property
    def median_final(self) -> float | None:
        values = [c for c in self.completed if c.final is not None]
        return None if self._hidden(values) else median(c.final for c in values)

    @property
    def response_rate(self) -> float | None:
        scored = [c for c in self._scored() if c.baseline > 0]
        if self._hidden(scored):
            return None
        responders = [c for c in scored if c.final <= c.baseline * (1 - RESPONSE_DROP)]
        return len(responders) / len(scored)

    @property
    def remission_rate(self) -> float | None:
        scored = [c for c in self.completed if c.final is not None]
        if self._hidden(scored):
            return None
        return len([c for c in scored if c.final < REMISSION_BELOW]) / len(scored)

    @property
    def dropout_rate(self) -> float | None:
        # Hidden with its count too: beside the completed count, the rate would give the
        # suppressed number of dropouts back.
        if self._patients(self.courses) < MIN_CELL or self._patients(self.dropped_out) < MIN_CELL:
            return None
        return len(self.dropped_out) / len(self.courses)

    def as_row(self) -> dict[str, str]:
        """The group as shown (and exported): counts suppressed, figures hidden."""
        return {
            "group": self.label,
            "completed": self.completed_cell,
            "dropped_out": self.dropped_out_cell,
            "median_baseline_phq9": _number(self.median_baseline),
            "median_final_phq9": _number(self.median_final),
            "response_rate": _percent(self.response_rate),
            "remission_rate": _percent(self.remission_rate),
            "dropout_rate": _percent(self.dropout_rate),
        }

    @property
    def shown(self) -> list[str]:
        row = self.as_row()
        return [row[key] for key, _ in OUTCOME_COLUMNS]


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


OUTCOME_COLUMNS = [
    ("group", "Group"),
    ("completed", "Completed courses (patients)"),
    ("dropped_out", "Dropped out (patients)"),
    ("median_baseline_phq9", "Median baseline PHQ-9"),
    ("median_final_phq9", "Median final PHQ-9"),
    ("response_rate", "Response rate"),
    ("remission_rate", "Remission rate"),
    ("dropout_rate", "Dropout rate"),
]


@dataclass
class Outcomes:
    date_from: date
    date_to: date
    clinic: OutcomeGroup
    by_therapist: list[OutcomeGroup]
    by_problem_area: list[OutcomeGroup]


def period_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of ``date_from``, start of the day after ``date_to``) in the clinic's time."""
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def outcomes_for_clinic(clinic_id: int, tz: ZoneInfo, date_from: date, date_to: date) -> Outcomes:
    start, end = period_bounds(date_from, date_to, tz)
    ended = (
        TreatmentCourse.objects.filter(
            clinic_id=clinic_id, status__in=[CourseStatus.COMPLETED, CourseStatus.DROPPED_OUT]
        )
        .annotate(ended=Coalesce(F("ended_at"), F("updated_at")))
        .filter(ended__gte=start, ended__lt=end)
        .order_by("pk")
        .values_list("pk", "patient_id", "therapist_id", "status", "baseline_phq9", "latest_phq9")
    )
    courses = [EndedCourse(*values) for values in ended]
    clinic_group = OutcomeGroup(label="Clinic", courses=courses)

    by_therapist: dict[int, OutcomeGroup] = {}
    names = dict(
        (member.pk, member.display_name)
        for member in User.objects.filter(pk__in={c.therapist_id for c in courses})
    )
    for course in courses:
        group = by_therapist.setdefault(
            course.therapist_id, OutcomeGroup(label=names.get(course.therapist_id, "—"))
        )
        group.courses.append(course)

    kinds: dict[int, set[str]] = defaultdict(set)
    for course_id, kind in ProblemArea.objects.filter(
        clinic_id=clinic_id,
        course_id__in=[c.course_id for c in courses],
        removed_at__isnull=True,
    ).values_list("course_id", "kind"):
        kinds[course_id].add(kind)
    by_area = {kind: OutcomeGroup(label=label) for kind, label in ProblemAreaKind.choices}
    no_area = OutcomeGroup(label="No problem area recorded")
    for course in courses:
        if not kinds[course.course_id]:
            no_area.courses.append(course)
        for kind in kinds[course.course_id]:
            by_area[kind].courses.append(course)

    return Outcomes(
        date_from=date_from,
        date_to=date_to,
        clinic=clinic_group,
        by_therapist=sorted(by_therapist.values(), key=lambda g: g.label.lower()),
        by_problem_area=[*by_area.values(), *([no_area] if no_area.courses else [])],
    )
