"""ipt_clinic/urls_by_pk.py writes the same URL as ``reverse()`` for any key, under a script
prefix too."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from ipt_clinic.urls_by_pk import pk_reverser

KEYS = [1, 7, 10, 99, 12345, 2**31 + 5, 9_223_372_036_854_775_807]
VIEWS = ["therapy:session", "therapy:worksheet", "phases:course", "phases:goal_edit"]


@pytest.mark.parametrize("viewname", VIEWS)
def test_it_writes_what_reverse_writes(viewname):
    url_for = pk_reverser(viewname)
    for key in KEYS:
        assert url_for(key) == reverse(viewname, args=[key])


def test_it_keeps_the_script_prefix_of_the_request():
    set_script_prefix("/clinic/")
    try:
        url_for = pk_reverser("therapy:session")
        assert url_for(42) == reverse("therapy:session", args=[42])
        assert url_for(42).startswith("/clinic/")
    finally:
        clear_script_prefix()


def test_it_refuses_a_key_that_is_not_a_number():
    with pytest.raises(ValueError):
        pk_reverser("therapy:session")("1/../admin")
