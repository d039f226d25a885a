"""The URL of each row of a long list, reversed once for the list rather than once a row.

``pk_reverser("therapy:worksheet")`` reverses the URL once with a marker in the place of the
key and gives a function writing ``reverse("therapy:worksheet", args=[pk])`` for any key:
the same string, at the cost of an f-string. A page listing twenty worksheets, twenty
sessions and their homework otherwise spent a millisecond and more in ``reverse()`` alone.
For URLs whose one argument is an ``<int:...>`` key (Django's int converter writes it as
``str(pk)``); tests/foundation/test_urls_by_pk.py compares it with ``reverse()``. Call it
while handling the request (it reverses with the request's script prefix), not at import.
"""

from collections.abc import Callable

from django.urls import reverse

_MARKER = 918_273_645_546_372_819


def pk_reverser(viewname: str) -> Callable[[int], str]:
    url = reverse(viewname, args=[_MARKER])
    head, marker, tail = url.partition(str(_MARKER))
    if not marker or str(_MARKER) in tail:  # pragma: no cover - a URL of another shape
        raise ValueError(f"{viewname} does not take one integer key")

    def url_for(pk: int) -> str:
        return f"{head}{int(pk)}{tail}"

    return url_for
