"""Nothing a user types in an address answers 500: every URL of the access matrix, requested
by the person it lets in, with every query parameter the app reads set to a tampered value
(a NUL byte, digits that are not ASCII, a negative number, a number past any column's range,
a very long string), and with its record ids in the path pushed past any column's range.

The parameter names are found in the code, not listed here: every ``request.GET`` read in
the apps and every field of the apps' forms, so a parameter added later is tried too."""

import ast
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from django import forms
from django.urls import reverse

from tests.matrix import build_world
from tests.security.helpers import allowed_client, rows_with

ROOT = Path(__file__).resolve().parents[2]
APPS = ("ipt_clinic", "patients", "phases", "sessions", "portal", "caseload")

TAMPERED = {
    "nul": "a\x00b",
    "superscript-two": "²",
    "arabic-indic-three": "٣",
    "negative": "-1",
    "out-of-range": "99999999999999999999",
    "long": "x" * 5000,
}


def _names_read_from_get() -> set[str]:
    """Literal names in ``request.GET.get("x")``, ``request.GET["x"]``, ``.getlist("x")``
    and ``"x" in request.GET`` across the apps."""
    names: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                name = _get_parameter(node)
                if name:
                    names.add(name)
    return names


def _is_request_get(node) -> bool:
    """``request.GET``, or a helper's ``query`` parameter that is handed it (the dashboard's
    ``BoardState.from_query(request.GET)``)."""
    if isinstance(node, ast.Name):
        return node.id == "query"
    return isinstance(node, ast.Attribute) and node.attr == "GET"


def _get_parameter(node) -> str | None:
    """The name in ``request.GET.get("x")`` / ``.getlist("x")``, ``request.GET["x"]`` or
    ``"x" in request.GET``, if ``node`` is one of those."""
    named = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        reads = _is_request_get(node.func.value) and node.func.attr in {"get", "getlist"}
        named = node.args[0] if reads and node.args else None
    elif isinstance(node, ast.Subscript) and _is_request_get(node.value):
        named = node.slice
    elif isinstance(node, ast.Compare) and any(_is_request_get(c) for c in node.comparators):
        named = node.left
    if isinstance(named, ast.Constant) and isinstance(named.value, str):
        return named.value
    return None


def _form_field_names() -> set[str]:
    """Every field name of the apps' forms (the URLconf has imported them all)."""
    reverse("home")  # loads the URLconf, and with it every view module and its forms
    names: set[str] = set()
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in APPS:
            names.update(getattr(cls, "base_fields", {}))
    return names


GET_NAMES = _names_read_from_get()
PARAMETER_NAMES = sorted(GET_NAMES | _form_field_names())


def test_it_finds_the_parameters_it_tampers_with():
    # Guards the discovery above: these are read today.
    assert {"page", "start", "therapist", "sort", "metric", "date_from", "next"} <= GET_NAMES
    assert {"q", "status", "phase"} <= set(PARAMETER_NAMES)


def _server_errors(responses: list[tuple[str, object]]) -> list[str]:
    return [
        f"{what}: {response.status_code}"
        for what, response in responses
        if response.status_code >= 500
    ]


class _Visitors:
    """One client per audience of the matrix, made on first use."""

    def __init__(self, world):
        self.world = world
        self.clients: dict = {}

    def client_for(self, row):
        if row.audience not in self.clients:
            self.clients[row.audience] = allowed_client(
                self.world, row, raise_request_exception=False
            )
        return self.clients[row.audience]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TAMPERED)
def test_it_answers_every_page_without_a_server_error_whatever_its_parameters(kind):
    world = build_world()
    visitors = _Visitors(world)
    tampered = {name: TAMPERED[kind] for name in PARAMETER_NAMES}
    responses = []
    for name, index, row in rows_with("get"):
        client = visitors.client_for(row)
        url = reverse(name, kwargs=row.kwargs(world))
        own = dict(parse_qsl(row.query))
        # The row's own parameters kept (a drill-down needs its figure to get as far as its
        # filters), then every parameter tampered with.
        for query in ({**tampered, **own}, tampered) if own else (tampered,):
            responses.append((f"{name}[{index}]", client.get(f"{url}?{urlencode(query)}")))
    errors = _server_errors(responses)
    assert not errors, f"server errors with every parameter set to {kind}: {errors[:5]}"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TAMPERED)
def test_it_answers_every_form_without_a_server_error_whatever_is_posted(kind):
    world = build_world()
    value = TAMPERED[kind]
    responses = []
    # The patient's posts first: the therapist's side revokes the world's portal link.
    rows = sorted(rows_with("post"), key=lambda case: case[2].audience != "portal")
    for name, index, row in rows:
        # A client of its own for each: a post may end its session (logging out, leaving
        # the portal).
        client = allowed_client(world, row, raise_request_exception=False)
        posted = {
            key: [value] if isinstance(sent, list | tuple) else value
            for key, sent in row.data(world).items()
        }
        url = reverse(name, kwargs=row.kwargs(world))
        responses.append((f"{name}[{index}]", client.post(url, posted)))
    errors = _server_errors(responses)
    assert not errors, f"server errors with every posted value {kind}: {errors[:5]}"


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["99999999999999999999", "9223372036854775808", "0"])
def test_it_answers_record_ids_past_any_column_without_a_server_error(number):
    world = build_world()
    visitors = _Visitors(world)
    responses = []
    for name, _index, row in rows_with("get"):
        kwargs = row.kwargs(world)
        if any(isinstance(value, int) for value in kwargs.values()):
            kwargs = {key: number if isinstance(v, int) else v for key, v in kwargs.items()}
            url = reverse(name, kwargs=kwargs)
            responses.append((url, visitors.client_for(row).get(url)))
    errors = _server_errors(responses)
    assert not errors, f"server errors with record ids {number}: {errors[:5]}"
