"""PHQ-9, GAD-7 and WSAS: item counts, answer ranges, totals and bands. Totals are always
computed here."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

ANSWER_CHOICES = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)


@dataclass(frozen=True)
class InstrumentSpec:
    code: str
    label: str
    items: tuple[str, ...]
    bands: tuple[tuple[int, int, str], ...]  # (low, high, label), inclusive
    # Every item's answers, by score: the lowest 0, the highest the item's maximum.
    choices: tuple[tuple[int, str], ...] = ANSWER_CHOICES
    # Items (numbered from 1) the scale's manual lets go unscored, with the answer that says
    # why; an unscored item is stored as None and left out of the total.
    may_skip: tuple[int, ...] = ()
    skip_label: str = ""

    @property
    def max_answer(self) -> int:
        return self.choices[-1][0]

    @property
    def max_total(self) -> int:
        return self.max_answer * len(self.items)

    @property
    def answer_range(self) -> str:
        """The answers an item takes, in words: "0, 1, 2 or 3", "a whole number from 0 to 8"."""
        if self.max_answer <= 3:
            values = [str(value) for value, _label in self.choices]
            return ", ".join(values[:-1]) + " or " + values[-1]
        return f"a whole number from 0 to {self.max_answer}"


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

# The Work and Social Adjustment Scale (Mundt, Marks, Shear & Greist, Br J Psychiatry 2002;
# 180:461-4): how much the problem impairs five areas of everyday life, each from 0 (not at
# all) to 8 (very severely). Its wording names the patient's problem ("Because of my
# [problem] ..."); here it is "my problem", the word the patient reads in the portal.
WSAS = InstrumentSpec(
    code="wsas",
    label="WSAS",
    items=(
        "Because of my problem, my ability to work is impaired. 0 means not at all impaired "
        "and 8 means very severely impaired, to the point that I cannot work.",
        "Because of my problem, my home management (cleaning, tidying, shopping, cooking, "
        "looking after home or children, paying bills) is impaired.",
        "Because of my problem, my social leisure activities (with other people, such as "
        "parties, bars, clubs, outings, visits, dating, home entertaining) are impaired.",
        "Because of my problem, my private leisure activities (done alone, such as reading, "
        "gardening, collecting, sewing, walking alone) are impaired.",
        "Because of my problem, my ability to form and maintain close relationships with "
        "others, including those I live with, is impaired.",
    ),
    # Mundt et al.: above 20 suggests moderately severe or worse psychopathology; 10 to 20
    # goes with significant functional impairment but less severe symptoms; below 10 is
    # what subclinical populations score.
    bands=(
        (0, 9, "subclinical"),
        (10, 20, "significant impairment"),
        (21, 40, "severe impairment"),
    ),
    choices=(
        (0, "Not at all"),
        (1, "1"),
        (2, "Slightly"),
        (3, "3"),
        (4, "Definitely"),
        (5, "5"),
        (6, "Markedly"),
        (7, "7"),
        (8, "Very severely"),
    ),
    # The scale's form: someone retired, or who chooses not to have a job, for reasons
    # unrelated to the problem leaves the work item unscored (the total is then that of the
    # other four items, out of 32).
    may_skip=(1,),
    skip_label="Does not apply: retired, or choose not to have a job, for reasons unrelated "
    "to my problem",
)

INSTRUMENTS = {spec.code: spec for spec in (PHQ9, GAD7, WSAS)}
# The symptom questionnaires, on one 0-27 scale; the WSAS measures functioning, on its own.
SYMPTOM_INSTRUMENTS = ("phq9", "gad7")


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


# The posted answer of an item left unscored as its manual allows ("does not apply").
NOT_APPLICABLE = "na"


def answer_value(value: str) -> int | None:
    """A posted answer (a form's choice): its score, or None for "does not apply"."""
    return None if value == NOT_APPLICABLE else int(value)


def answer_choices(
    spec: InstrumentSpec, number: int, *, skip_label: str, with_scores: bool
) -> list[tuple[int | str, str]]:
    """Item ``number``'s choices for a form: each answer by its score, and "does not apply"
    (``skip_label``) when the instrument lets that item go unscored. On the WSAS's 0-8 scale
    every choice shows its number ("0 Not at all", "1", "2 Slightly", ...); on the 0-3 scales
    the words, with the score after them when ``with_scores`` ("Not at all (0)")."""
    choices: list[tuple[int | str, str]] = []
    for value, words in spec.choices:
        if spec.max_answer > 3:
            label = str(value) if words == str(value) else f"{value} {words}"
        else:
            label = f"{words} ({value})" if with_scores else words
        choices.append((value, label))
    if number in spec.may_skip:
        choices.append((NOT_APPLICABLE, skip_label))
    return choices


def severity_for(instrument: str, total: int) -> str:
    for low, high, label in INSTRUMENTS[instrument].bands:
        if low <= total <= high:
            return label
    raise ValueError(f"{total} is outside the range of {instrument}")


def score(instrument: str, answers: list) -> tuple[int, str]:
    """Validate every item (an answer in the instrument's range, none missing except an item
    its manual lets go unscored, given as None) and return (total, severity)."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise ValidationError(f"Unknown questionnaire {instrument!r}.")
    if not isinstance(answers, list | tuple) or len(answers) != len(spec.items):
        raise ValidationError(
            f"{spec.label} needs an answer to each of its {len(spec.items)} questions."
        )
    for number, answer in enumerate(answers, start=1):
        if answer is None and number in spec.may_skip:
            continue
        if answer is None:
            raise ValidationError(f"{spec.label} question {number} needs an answer.")
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int)
            or not 0 <= answer <= spec.max_answer
        ):
            raise ValidationError(
                f"{spec.label} question {number}: the answer must be {spec.answer_range}."
            )
    total = sum(answer for answer in answers if answer is not None)
    return total, severity_for(instrument, total)


def unscored_items(instrument: str, answers: list) -> list[int]:
    """The items (numbered from 1) left unscored as the manual allows (None)."""
    return [number for number, answer in enumerate(answers, start=1) if answer is None]


def scored_out_of(instrument: str, answers: list) -> int:
    """The highest total these answers could have had: the instrument's maximum, less the
    items left unscored (a WSAS without the work item is out of 32)."""
    spec = INSTRUMENTS[instrument]
    return spec.max_answer * (len(spec.items) - len(unscored_items(instrument, answers)))


def unscored_words(instrument: str, answers: list) -> str:
    """What the reader of a total needs to know when an item went unscored; "" otherwise."""
    skipped = unscored_items(instrument, answers)
    if not skipped:
        return ""
    if instrument == "wsas" and skipped == [1]:
        return (
            "work item not applicable (retired or not working for reasons unrelated to the "
            f"problem): total of the other four, out of {scored_out_of(instrument, answers)}"
        )
    numbers = ", ".join(str(number) for number in skipped)
    return f"question {numbers} unscored: out of {scored_out_of(instrument, answers)}"


def phq9_item9_positive(answers: list[int]) -> bool:
    return answers[8] > 0
