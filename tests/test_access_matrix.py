"""Every URL of the app, tried as the owner, another therapist, another clinic's admin and an
anonymous visitor. A URL without a row in tests/matrix/rows_*.py fails the suite."""

import importlib
import pkgutil

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.matrix as matrix
from tests.conftest import login

# Django's and third-party URLs we do not serve under our namespaces are not ours to list.
OUR_NAMESPACES = {
    "",
    "accounts",
    "patients",
    "phases",
    "therapy",
    "caseload",
    "portal",
    "interop",
    "letters",
}


def _all_rows() -> dict:
    rows: dict = {}
    for module in pkgutil.iter_modules(matrix.__path__):
        if module.name.startswith("rows_"):
            rows.update(importlib.import_module(f"tests.matrix.{module.name}").ROWS)
    return rows


def _url_names(resolver=None, prefix="") -> list[str]:
    names = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            names += _url_names(entry, f"{prefix}{ns}:" if ns else prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            names.append(f"{prefix}{entry.name}")
    return names


ROWS = _all_rows()
URL_NAMES = [n for n in _url_names() if (n.split(":")[0] if ":" in n else "") in OUR_NAMESPACES]
CASES = [(name, i, row) for name, rows in sorted(ROWS.items()) for i, row in enumerate(rows)]


def test_it_has_a_row_for_every_url():
    missing = sorted(set(URL_NAMES) - set(ROWS))
    assert not missing, f"URLs with no access-matrix row: {missing}"
    unknown = sorted(set(ROWS) - set(URL_NAMES))
    assert not unknown, f"Access-matrix rows for URLs that do not exist: {unknown}"


def _request(client: Client, world, name: str, row):
    url = reverse(name, kwargs=row.kwargs(world)) + (f"?{row.query}" if row.query else "")
    if row.method == "post":
        return client.post(url, row.data(world))
    return client.get(url)


def _ok(response) -> bool:
    return response.status_code < 400


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "index", "row"), CASES, ids=[f"{n}[{i}]" for n, i, _ in CASES])
def test_access(name, index, row):
    world = matrix.build_world()
    anonymous = _request(Client(), world, name, row)
    if row.audience == "public":
        assert _ok(anonymous), f"{name}: public URL refused ({anonymous.status_code})"
        return
    if row.audience == "portal":
        # Staff sessions carry no portal identity: a staff member gets nothing from the portal.
        as_staff = _request(login(Client(), world.owner), world, name, row)
        assert as_staff.status_code in (302, 403, 404), (
            f"{name}: portal page served to a staff session"
        )
        return
    assert _is_login_redirect(anonymous), f"{name}: anonymous visitor got {anonymous.status_code}"

    outsider = _request(login(Client(), world.other_clinic_admin), world, name, row)
    if row.audience == "patient":
        other = _request(login(Client(), world.other_therapist), world, name, row)
        assert other.status_code == 404, f"{name}: another therapist got {other.status_code}"
        assert outsider.status_code == 404, (
            f"{name}: another clinic's admin got {outsider.status_code}"
        )
        admin = _request(login(Client(), world.clinic_admin), world, name, row)
        if row.admin_allowed:
            assert _ok(admin), f"{name}: the clinic admin was refused ({admin.status_code})"
        else:
            assert admin.status_code == 404, f"{name}: the clinic admin got {admin.status_code}"
        owner = _request(login(Client(), world.owner), world, name, row)
        assert _ok(owner), f"{name}: the owner was refused ({owner.status_code})"
    elif row.audience == "admin":
        therapist = _request(login(Client(), world.owner), world, name, row)
        assert therapist.status_code == 404, f"{name}: a therapist got {therapist.status_code}"
        admin = _request(login(Client(), world.clinic_admin), world, name, row)
        assert _ok(admin), f"{name}: the clinic admin was refused ({admin.status_code})"
        if row.names_staff:
            assert outsider.status_code == 404, (
                f"{name}: another clinic's admin got {outsider.status_code}"
            )
        else:
            assert _ok(outsider), (
                f"{name}: another clinic's admin should see their own clinic's page"
            )
    elif row.audience == "staff":
        owner = _request(login(Client(), world.owner), world, name, row)
        assert _ok(owner), f"{name}: a logged-in therapist was refused ({owner.status_code})"
