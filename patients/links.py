"""Links for the rows of a list, reversed once per list rather than once per row.

``{% url %}`` walks the URL resolver on every call; a list that links each of its rows to one
view by the row's id pays for that walk on every row. ``link_maker(name)`` reverses ``name``
once, for a stand-in id, and gives a function writing the same URL for any id: the address
``reverse(name, args=[pk])`` gives, for views whose one argument is an ``<int:...>`` id.
"""

from collections.abc import Callable

from django.urls import reverse

# An id no URL of ours holds otherwise: the first and only place it appears is the argument.
_STAND_IN = 918_273_645_546_372_819


def link_maker(name: str) -> Callable[[int], str]:
    before, found, after = reverse(name, args=[_STAND_IN]).partition(str(_STAND_IN))
    if not found:  # not an id converter: every link through the resolver
        return lambda pk: reverse(name, args=[pk])
    return lambda pk: f"{before}{int(pk)}{after}"
