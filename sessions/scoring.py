"""PHQ-9 and GAD-7: item counts, totals and severity bands. Totals are always computed here."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class InstrumentSpec:
    code: str
    label: str
    items: tuple[str, ...]
    bands: tuple[tuple[int, int, str], ...]  # (low, high, label), inclusive

    @property
    def max_total(self) -> int:
        return 3 * len(self.items)


PHQ9 = InstrumentSpec(
    code="phq9",
    label="PHQ-9",
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    bands=(
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ),
)

GAD7 = InstrumentSpec(
    code="gad7",
    label="GAD-7",
    items=(
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid as if something awful might happen",
    ),
    bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
)

INSTRUMENTS = {spec.code: spec for spec in (PHQ9, GAD7)}
ANSWER_CHOICES = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)


# Validated translations of an instrument's wording kept in this repository, by instrument and
# language code: (instrument, language) -> the translated spec (items and answer choices as
# published with the translation's validation). A questionnaire is shown in another language
# only from here; nobody writes their own translation of a validated instrument. None yet.
VALIDATED_TRANSLATIONS: dict[tuple[str, str], InstrumentSpec] = {}


def instrument_language(instrument: str, language: str) -> str:
    """The language ``instrument`` is shown in to someone reading ``language``: that language
    when a validated translation of it is kept here (``VALIDATED_TRANSLATIONS``), English
    otherwise."""
    if language.split("-")[0] == "en":
        return language
    if (instrument, language) in VALIDATED_TRANSLATIONS:
        return language
    return "en"


def severity_for(instrument: str, total: int) -> str:
    for low, high, label in INSTRUMENTS[instrument].bands:
        if low <= total <= high:
            return label
    raise ValueError(f"{total} is outside the range of {instrument}")


def score(instrument: str, answers: list) -> tuple[int, str]:
    """Validate every item (0-3, none missing) and return (total, severity)."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise ValidationError(f"Unknown questionnaire {instrument!r}.")
    if not isinstance(answers, list | tuple) or len(answers) != len(spec.items):
        raise ValidationError(
            f"{spec.label} needs an answer to each of its {len(spec.items)} questions."
        )
    for number, answer in enumerate(answers, start=1):
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= 3:
            raise ValidationError(
                f"{spec.label} question {number}: the answer must be 0, 1, 2 or 3."
            )
    total = sum(answers)
    return total, severity_for(instrument, total)


def phq9_item9_positive(answers: list[int]) -> bool:
    return answers[8] > 0
