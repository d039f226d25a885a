"""Record ids read from what a user can type: a query parameter or a posted id list.

``str.isdigit()`` is no guard: it accepts "²" (which ``int()`` refuses: a server error) and
"٣" (which ``int()`` reads as 3). An id here is ASCII digits only, and short enough for a
bigint column; anything else is no id at all, which the caller treats as "not found" or
leaves out.
"""

import re
from collections.abc import Iterable

# 18 digits: every such number fits PostgreSQL's bigint (up to 9,223,372,036,854,775,807).
_RECORD_ID = re.compile(r"[0-9]{1,18}")


def record_id(value: str | None) -> int | None:
    """The positive id ``value`` spells, or None."""
    if value is None or not _RECORD_ID.fullmatch(value):
        return None
    return int(value) or None


def record_ids(values: Iterable[str]) -> list[int]:
    """The ids among ``values`` (a posted list), each once, in order; the rest left out."""
    found = (record_id(value) for value in values)
    return list(dict.fromkeys(number for number in found if number is not None))
