"""The closeness-circle picture: an SVG drawn on the server, the patient at the centre and
each person of the inventory on their ring (1 closest … 3 least close).

Every person carries their colour AND a two-letter kind code inside the dot, their name
under it, and the legend spells out the codes, so the picture reads without colour. All
text is escaped. The ``viewBox`` lets it scale to a phone.
"""

import math
from dataclasses import dataclass

from django.utils.html import conditional_escape as escape
from django.utils.safestring import SafeString, mark_safe

from .models import RelationshipKind

SIZE = 400
CENTRE = SIZE / 2
RING_RADII = {1: 65, 2: 120, 3: 175}
DOT_RADIUS = 13
NAME_LIMIT = 16
LEGEND_ROW = 22

# kind: (code shown in the dot, fill colour). Fills are dark enough for white text (AA).
KIND_STYLE = {
    RelationshipKind.PARTNER: ("PT", "#b02a37"),
    RelationshipKind.EX_PARTNER: ("EX", "#6f42c1"),
    RelationshipKind.PARENT: ("PA", "#0a58ca"),
    RelationshipKind.CHILD: ("CH", "#087990"),
    RelationshipKind.SIBLING: ("SI", "#146c43"),
    RelationshipKind.OTHER_FAMILY: ("FA", "#3d6b35"),
    RelationshipKind.FRIEND: ("FR", "#a3500b"),
    RelationshipKind.COLLEAGUE: ("CO", "#6c4a1d"),
    RelationshipKind.NEIGHBOUR: ("NB", "#5c636a"),
    RelationshipKind.PROFESSIONAL: ("PR", "#1f4e79"),
    RelationshipKind.OTHER: ("OT", "#495057"),
}


@dataclass(frozen=True)
class CirclePerson:
    """One dot: a current ``Relationship`` or a ``RelationshipRevision`` as it stood."""

    relationship_id: int
    name: str
    kind: str
    ring: int
    is_support: bool = False
    deceased: bool = False

    @classmethod
    def from_relationship(cls, relationship) -> "CirclePerson":
        return cls(
            relationship.pk,
            relationship.name,
            relationship.kind,
            relationship.ring,
            relationship.is_support,
            relationship.deceased,
        )

    @classmethod
    def from_revision(cls, revision) -> "CirclePerson":
        return cls(
            revision.relationship_id,
            revision.name,
            revision.kind,
            revision.ring,
            revision.is_support,
            revision.deceased,
        )


def _start_angle(ring: int) -> float:
    # Each ring turned a little so that names on neighbouring rings do not line up.
    return -math.pi / 2 + (ring - 1) * math.pi / 7


def person_position(index: int, count: int, ring: int) -> tuple[float, float]:
    """Where the ``index``-th of ``count`` people on ``ring`` sits (evenly spaced)."""
    angle = _start_angle(ring) + 2 * math.pi * index / max(count, 1)
    radius = RING_RADII[ring]
    return (
        round(CENTRE + radius * math.cos(angle), 2),
        round(CENTRE + radius * math.sin(angle), 2),
    )


def _short(name: str) -> str:
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def circle_svg(
    people: list[CirclePerson], *, centre_label: str, svg_id: str, title: str
) -> SafeString:
    """The picture's markup. Written with f-strings, every text (names, labels, the title,
    the id) escaped by ``escape`` and every other value a number or a constant of this
    module: ``format_html`` escaped each number too, the most of the patient page's time
    after its queries."""
    by_ring: dict[int, list[CirclePerson]] = {1: [], 2: [], 3: []}
    for person in sorted(people, key=lambda p: (p.ring, p.name.lower(), p.relationship_id)):
        by_ring[person.ring if person.ring in RING_RADII else 3].append(person)
    kinds = [kind for kind in KIND_STYLE if any(p.kind == kind for p in people)]
    has_support = any(p.is_support for p in people)
    has_deceased = any(p.deceased for p in people)
    legend_rows = math.ceil(len(kinds) / 2) + (1 if has_support else 0) + (1 if has_deceased else 0)
    height = SIZE + (legend_rows * LEGEND_ROW + 16 if legend_rows else 0)

    sid = escape(svg_id)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {height}" class="svg-figure '
        f'closeness-circle" role="img" aria-labelledby="{sid}-title {sid}-desc" id="{sid}">'
        f'<title id="{sid}-title">{escape(title)}</title>'
        f'<desc id="{sid}-desc">{len(people)} people: {len(by_ring[1])} on ring 1 (closest), '
        f"{len(by_ring[2])} on ring 2, {len(by_ring[3])} on ring 3.</desc>"
    ]
    for ring, radius in RING_RADII.items():
        # The ring's own label sits half-way between two people, never under a dot.
        count = len(by_ring[ring])
        angle = _start_angle(ring) + (math.pi / count if count else 0)
        parts.append(
            f'<circle class="ring" data-ring="{ring}" cx="{CENTRE}" cy="{CENTRE}" r="{radius}" '
            'fill="none" stroke="#6c757d" stroke-width="1" stroke-dasharray="4 3"/>'
            f'<text x="{round(CENTRE + radius * math.cos(angle), 2)}" '
            f'y="{round(CENTRE + radius * math.sin(angle) + 3, 2)}" font-size="10" '
            f'fill="#495057" text-anchor="middle">ring {ring}</text>'
        )
    parts.append(
        f'<g class="centre"><circle cx="{CENTRE}" cy="{CENTRE}" r="22" fill="#212529"/>'
        f'<text x="{CENTRE}" y="{CENTRE + 4}" font-size="11" fill="#ffffff" '
        f'text-anchor="middle">{escape(_short(centre_label))}</text></g>'
    )
    for ring, ring_people in by_ring.items():
        for index, person in enumerate(ring_people):
            x, y = person_position(index, len(ring_people), ring)
            code, colour = KIND_STYLE.get(person.kind, KIND_STYLE[RelationshipKind.OTHER])
            kind_label = (
                RelationshipKind(person.kind).label if person.kind in KIND_STYLE else person.kind
            )
            died = ", has died" if person.deceased else ""
            support = ", a source of support" if person.is_support else ""
            stroke = "#000000" if person.is_support else "#ffffff"
            width = 3 if person.is_support else 1
            name = escape(_short(person.name) + (" †" if person.deceased else ""))
            parts.append(
                f'<g class="person" data-relationship-id="{escape(person.relationship_id)}" '
                f'data-ring="{ring}" data-kind="{escape(person.kind)}">'
                f"<title>{escape(person.name)} — {escape(kind_label)}{died}, ring {ring}"
                f"{support}</title>"
                f'<circle cx="{x}" cy="{y}" r="{DOT_RADIUS}" fill="{colour}" stroke="{stroke}" '
                f'stroke-width="{width}"/>'
                f'<text x="{x}" y="{y + 3}" font-size="9" font-weight="bold" fill="#ffffff" '
                f'text-anchor="middle">{code}</text>'
                f'<text class="person-name" x="{x}" y="{y + DOT_RADIUS + 11}" font-size="11" '
                f'fill="#212529" text-anchor="middle">{name}</text></g>'
            )
    if legend_rows:
        top = SIZE + 8
        parts.append('<g class="legend" font-size="11" fill="#212529">')
        for i, kind in enumerate(kinds):
            code, colour = KIND_STYLE[kind]
            x = 20 + (i % 2) * 190
            y = top + (i // 2) * LEGEND_ROW
            parts.append(
                f'<circle cx="{x}" cy="{y + 9}" r="9" fill="{colour}"/>'
                f'<text x="{x}" y="{y + 12}" font-size="8" font-weight="bold" fill="#ffffff" '
                f'text-anchor="middle">{code}</text>'
                f'<text x="{x + 14}" y="{y + 13}">{escape(RelationshipKind(kind).label)}</text>'
            )
        if has_support:
            y = top + math.ceil(len(kinds) / 2) * LEGEND_ROW
            parts.append(
                f'<circle cx="20" cy="{y + 9}" r="9" fill="#ffffff" stroke="#000000" '
                f'stroke-width="3"/><text x="34" y="{y + 13}">Thick black outline: a source of '
                "support</text>"
            )
        if has_deceased:
            y = top + (math.ceil(len(kinds) / 2) + (1 if has_support else 0)) * LEGEND_ROW
            parts.append(f'<text x="14" y="{y + 13}">† after a name: has died</text>')
        parts.append("</g>")
    parts.append("</svg>")
    # Every text above went through escape(); the rest are this module's numbers and constants.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703
