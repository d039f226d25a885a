"""The CSP forbids inline script, inline style and event-handler attributes; every page the
app serves (each GET row of the access matrix, as the person allowed to see it) has none."""

import re

import pytest

import tests.matrix as matrix

from .helpers import allowed_client, rows_with, url_for

GET_ROWS = rows_with("get")
TAG = re.compile(r"<[a-zA-Z][^>]*>")
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    found = INLINE_SCRIPT.findall(html)
    for tag in TAG.findall(html):
        if STYLE_ATTRIBUTE.search(tag) or HANDLER_ATTRIBUTE.search(tag):
            found.append(tag)
    return found


def test_it_finds_each_kind_of_inline_code():
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<div style="color: red">x</div>')
    assert inline_code('<button onclick="go()">x</button>')
    assert inline_code('<svg><rect style="fill:red"/></svg>')
    assert not inline_code('<script src="/static/js/app.js" nonce="n" defer></script>')
    assert not inline_code('<p class="x">Based on=what the patient said</p>')


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "index", "row"), GET_ROWS, ids=[f"{n}[{i}]" for n, i, _ in GET_ROWS]
)
def test_it_serves_pages_without_inline_code(name, index, row):
    world = matrix.build_world()
    client = allowed_client(world, row)

    response = client.get(url_for(world, name, row), follow=True)

    # The world's measure was entered by the therapist, so the portal's thank-you page for it
    # is the portal's own 404 page: still a page the app serves, still checked.
    expected_404 = name == "portal:questionnaire_thanks"
    assert response.status_code < 400 or (expected_404 and response.status_code == 404), (
        f"{name}: {response.status_code}"
    )
    if "html" not in response.get("Content-Type", ""):
        return
    found = inline_code(response.content.decode())
    assert not found, f"{name} has inline code the CSP would block: {found}"
