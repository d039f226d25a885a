"""Who may use a matrix row, and a client for them (the rows are tests/matrix/rows_*.py)."""

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.conftest import login
from tests.portal.links import open_portal
from tests.test_access_matrix import ROWS


def rows_with(method: str) -> list[tuple[str, int, object]]:
    return [
        (name, index, row)
        for name, rows in sorted(ROWS.items())
        for index, row in enumerate(rows)
        if row.method == method
    ]


def allowed_client(world, row, **client_kwargs) -> Client:
    """A client for the person the row lets in: the owner therapist, the clinic admin, a
    patient who opened their portal link, or an anonymous visitor for public pages."""
    client = Client(**client_kwargs)
    if row.audience == "public":
        return client
    if row.audience == "portal":
        cache.clear()  # the bad-token counter lives in the cache
        exchange = reverse("portal:exchange", kwargs={"token": world.portal_token})
        assert open_portal(client, exchange).status_code == 302
        return client
    if row.audience == "admin":
        return login(client, world.clinic_admin)
    return login(client, world.owner)


def url_for(world, name: str, row) -> str:
    url = reverse(name, kwargs=row.kwargs(world))
    return f"{url}?{row.query}" if row.query else url
