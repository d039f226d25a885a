"""The rules of outcomes as services report them, at every threshold (no database)."""

import pytest

from caseload.recovery_rules import (
    Scores,
    is_case,
    is_recovered,
    is_reliably_deteriorated,
    is_reliably_improved,
    is_reliably_recovered,
)


@pytest.mark.parametrize(
    ("phq9", "gad7", "case"),
    [
        ((9, 9), (7, 7), False),
        ((10, 9), (7, 7), True),
        ((9, 9), (8, 7), True),
        ((10, 9), None, True),
        ((9, 2), None, False),
        (None, (8, 3), True),
        (None, (7, 3), False),
    ],
)
def test_it_takes_a_case_from_either_threshold_at_the_start(phq9, gad7, case):
    assert is_case(Scores.of(phq9=phq9, gad7=gad7)) is case


@pytest.mark.parametrize(
    ("phq9", "gad7", "recovered"),
    [
        ((15, 9), (12, 7), True),
        ((15, 10), (12, 7), False),  # PHQ-9 still at the threshold
        ((15, 9), (12, 8), False),  # GAD-7 still at the threshold
        ((9, 2), (7, 1), False),  # not a case at the start
        ((15, 9), None, True),  # PHQ-9 alone
        ((15, 10), None, False),
        ((4, 1), (8, 7), True),  # a case on the GAD-7 alone, below both at the end
        ((4, 9), (8, 7), True),
        ((4, 10), (8, 7), False),  # PHQ-9 rose to a case: below both is not met
    ],
)
def test_it_counts_recovery_below_both_thresholds_at_the_end(phq9, gad7, recovered):
    assert is_recovered(Scores.of(phq9=phq9, gad7=gad7)) is recovered


@pytest.mark.parametrize(
    ("phq9", "gad7", "improved"),
    [
        ((15, 10), None, False),  # down 5
        ((15, 9), None, True),  # down 6
        ((15, 14), (12, 9), False),  # GAD-7 down 3
        ((15, 14), (12, 8), True),  # GAD-7 down 4
        ((15, 9), (8, 11), True),  # GAD-7 up 3 is not as much as a reliable change
        ((15, 9), (8, 12), False),  # GAD-7 up 4: neither up by as much fails
        ((10, 16), (12, 8), False),  # PHQ-9 up 6 against GAD-7 down 4
        ((10, 15), (12, 8), True),  # PHQ-9 up 5 only
        (None, (12, 8), True),
    ],
)
def test_it_counts_reliable_improvement_and_neither_up_by_as_much(phq9, gad7, improved):
    assert is_reliably_improved(Scores.of(phq9=phq9, gad7=gad7)) is improved


@pytest.mark.parametrize(
    ("phq9", "gad7", "deteriorated"),
    [
        ((5, 10), None, False),  # up 5
        ((5, 11), None, True),  # up 6
        ((5, 5), (4, 7), False),  # GAD-7 up 3
        ((5, 5), (4, 8), True),  # GAD-7 up 4
        ((5, 11), (12, 8), False),  # PHQ-9 up 6 but GAD-7 down 4
        ((5, 11), (12, 9), True),  # GAD-7 down 3 only
        ((11, 5), (4, 8), False),  # PHQ-9 down 6 against GAD-7 up 4
    ],
)
def test_it_counts_reliable_deterioration_and_neither_down_by_as_much(phq9, gad7, deteriorated):
    assert is_reliably_deteriorated(Scores.of(phq9=phq9, gad7=gad7)) is deteriorated


@pytest.mark.parametrize(
    ("phq9", "gad7", "reliably_recovered"),
    [
        ((16, 9), (10, 6), True),  # recovered, PHQ-9 down 7
        ((14, 9), (9, 7), False),  # recovered, but down 5 and 2 only
        ((14, 8), (9, 7), True),  # down 6
        ((20, 11), (15, 3), False),  # reliably improved but PHQ-9 not below 10
        ((9, 2), (7, 1), False),  # improved, never a case
    ],
)
def test_it_counts_reliable_recovery_as_recovery_and_reliable_improvement(
    phq9, gad7, reliably_recovered
):
    scores = Scores.of(phq9=phq9, gad7=gad7)
    assert is_reliably_recovered(scores) is reliably_recovered
