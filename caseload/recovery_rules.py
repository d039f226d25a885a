"""Outcomes as talking-therapy services report them (NHS Talking Therapies' definitions),
as plain functions of a course's first and last scores. Nothing here reads the database.

A course's scores are a ``Scores``: for each questionnaire, its total at the first and at the
last attended session where it was taken (``None`` for a questionnaire not taken at two
sessions). A course with the PHQ-9 alone is judged on the PHQ-9 alone (and one with the GAD-7
alone on the GAD-7): each rule reads "the questionnaires it has".
"""

from dataclasses import dataclass

PHQ9_CASE = 10  # a case: PHQ-9 of 10 or more
GAD7_CASE = 8  # or GAD-7 of 8 or more
PHQ9_RELIABLE = 6  # a reliable change: PHQ-9 by 6 or more
GAD7_RELIABLE = 4  # or GAD-7 by 4 or more


@dataclass(frozen=True)
class Pair:
    """One questionnaire's total at the first and at the last scored session."""

    first: int
    last: int
    case_from: int
    reliable: int

    @property
    def case_at_start(self) -> bool:
        return self.first >= self.case_from

    @property
    def below_case_at_end(self) -> bool:
        return self.last < self.case_from

    @property
    def reliably_down(self) -> bool:
        return self.first - self.last >= self.reliable

    @property
    def reliably_up(self) -> bool:
        return self.last - self.first >= self.reliable


@dataclass(frozen=True)
class Scores:
    phq9: Pair | None
    gad7: Pair | None

    @classmethod
    def of(
        cls,
        *,
        phq9: tuple[int, int] | None = None,
        gad7: tuple[int, int] | None = None,
    ) -> "Scores":
        return cls(
            phq9=Pair(*phq9, case_from=PHQ9_CASE, reliable=PHQ9_RELIABLE) if phq9 else None,
            gad7=Pair(*gad7, case_from=GAD7_CASE, reliable=GAD7_RELIABLE) if gad7 else None,
        )

    @property
    def pairs(self) -> list[Pair]:
        return [pair for pair in (self.phq9, self.gad7) if pair is not None]


def is_case(scores: Scores) -> bool:
    """A case at the start: PHQ-9 of 10 or more, or GAD-7 of 8 or more, at the first scored
    session."""
    return any(pair.case_at_start for pair in scores.pairs)


def is_recovered(scores: Scores) -> bool:
    """Recovery: a case at the start, and below both thresholds (PHQ-9 under 10, GAD-7 under
    8) at the last scored session."""
    pairs = scores.pairs
    return is_case(scores) and all(pair.below_case_at_end for pair in pairs)


def is_reliably_improved(scores: Scores) -> bool:
    """Reliable improvement: PHQ-9 down by 6 or more, or GAD-7 down by 4 or more, and neither
    up by as much."""
    pairs = scores.pairs
    return any(pair.reliably_down for pair in pairs) and not any(pair.reliably_up for pair in pairs)


def is_reliably_recovered(scores: Scores) -> bool:
    """Reliable recovery: both recovery and reliable improvement."""
    return is_recovered(scores) and is_reliably_improved(scores)


def is_reliably_deteriorated(scores: Scores) -> bool:
    """Reliable deterioration: PHQ-9 up by 6 or more, or GAD-7 up by 4 or more, and neither
    down by as much."""
    pairs = scores.pairs
    return any(pair.reliably_up for pair in pairs) and not any(pair.reliably_down for pair in pairs)
