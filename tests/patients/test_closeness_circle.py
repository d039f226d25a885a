"""The closeness-circle SVG: each person on the right ring, labelled, escaped, with a legend."""

import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from patients.circle import CirclePerson, circle_svg
from tests.factories import RelationshipFactory

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    # Our own server-rendered markup, not untrusted input.
    return ET.fromstring(markup)  # noqa: S314


def _svg_from_page(html: str) -> ET.Element:
    match = re.search(r'<svg xmlns="http://www.w3.org/2000/svg".*?</svg>', html, re.S)
    assert match, "no SVG on the page"
    return _parse(match.group(0))


def _rings(svg: ET.Element) -> dict[int, tuple[float, float, float]]:
    return {
        int(c.get("data-ring")): (float(c.get("cx")), float(c.get("cy")), float(c.get("r")))
        for c in svg.iter(f"{SVG}circle")
        if c.get("class") == "ring"
    }


def test_each_person_sits_on_their_ring(patient, therapist_client):
    people = [
        RelationshipFactory(patient=patient, name="Chris", kind="partner", ring=1),
        RelationshipFactory(patient=patient, name="Mum", kind="parent", ring=1),
        RelationshipFactory(patient=patient, name="Sam", kind="sibling", ring=2),
        RelationshipFactory(patient=patient, name="Boss", kind="colleague", ring=3),
        RelationshipFactory(patient=patient, name="Neighbour Ann", kind="neighbour", ring=3),
        RelationshipFactory(patient=patient, name="Old Pal", kind="friend", ring=3),
    ]
    html = therapist_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    svg = _svg_from_page(html)
    rings = _rings(svg)
    assert sorted(rings) == [1, 2, 3]
    radii = sorted(r for _, _, r in rings.values())
    assert radii[0] < radii[1] < radii[2]
    placed = {}
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") != "person":
            continue
        dot = group.find(f"{SVG}circle")
        placed[int(group.get("data-relationship-id"))] = (
            float(dot.get("cx")),
            float(dot.get("cy")),
            [t.text for t in group.findall(f"{SVG}text")],
        )
    assert set(placed) == {p.pk for p in people}
    for person in people:
        x, y, texts = placed[person.pk]
        cx, cy, radius = rings[person.ring]
        assert math.isclose(math.hypot(x - cx, y - cy), radius, abs_tol=0.5), person.name
        assert person.name in texts  # a text label, not colour alone


def test_people_on_one_ring_do_not_overlap():
    people = [CirclePerson(i, f"P{i}", "friend", 1) for i in range(8)]
    svg = _parse(str(circle_svg(people, centre_label="Jo", svg_id="c", title="t")))
    dots = [
        (float(c.get("cx")), float(c.get("cy")))
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "person"
        for c in [g.find(f"{SVG}circle")]
    ]
    for i, a in enumerate(dots):
        for b in dots[i + 1 :]:
            assert math.dist(a, b) > 2 * 13


def test_the_legend_names_every_kind_shown_and_the_support_mark():
    people = [
        CirclePerson(1, "Chris", "partner", 1, is_support=True),
        CirclePerson(2, "Sam", "sibling", 2),
    ]
    svg = _parse(str(circle_svg(people, centre_label="Jo", svg_id="c", title="t")))
    legend = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "legend")
    words = " ".join(t.text for t in legend.iter(f"{SVG}text"))
    assert "Partner / spouse" in words and "Sibling" in words and "support" in words
    assert "Friend" not in words
    assert svg.get("viewBox").startswith("0 0 400 ")
    assert svg.get("role") == "img"


def test_names_are_escaped():
    people = [CirclePerson(1, '<script>alert("x")</script> & Co', "friend", 2)]
    markup = str(circle_svg(people, centre_label="<b>Jo</b>", svg_id="c", title="t"))
    assert "<script>" not in markup and "<b>" not in markup
    svg = _parse(markup)  # still well-formed XML
    person = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "person")
    assert person.find(f"{SVG}title").text.startswith('<script>alert("x")</script> & Co')


def test_every_text_is_escaped_the_title_the_id_and_an_unknown_kind_too():
    people = [CirclePerson(1, "Sam", 'odd"<kind>', 2, deceased=True)]
    markup = str(circle_svg(people, centre_label="Jo", svg_id='c"x', title="<i>T</i> & U"))
    assert "<i>" not in markup and 'odd"<' not in markup and 'id="c"x"' not in markup
    svg = _parse(markup)
    assert svg.find(f"{SVG}title").text == "<i>T</i> & U"
    person = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "person")
    assert person.get("data-kind") == 'odd"<kind>'
    assert person.find(f"{SVG}title").text == 'Sam — odd"<kind>, has died, ring 2'


def test_an_empty_inventory_still_draws_the_rings():
    svg = _parse(str(circle_svg([], centre_label="Jo", svg_id="c", title="t")))
    assert len(_rings(svg)) == 3
