"""The closeness-circle picture: an SVG drawn on the server, the patient at the centre and
each person of the inventory on their ring (1 closest … 3 least close).

Every person carries their colour AND a two-letter kind code inside the dot, their name
under it, and the legend spells out the codes, so the picture reads without colour. All
text goes through ``format_html`` (escaped). The ``viewBox`` lets it scale to a phone.
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html
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
    by_ring: dict[int, list[CirclePerson]] = {1: [], 2: [], 3: []}
    for person in sorted(people, key=lambda p: (p.ring, p.name.lower(), p.relationship_id)):
        by_ring[person.ring if person.ring in RING_RADII else 3].append(person)
    kinds = [kind for kind in KIND_STYLE if any(p.kind == kind for p in people)]
    has_support = any(p.is_support for p in people)
    has_deceased = any(p.deceased for p in people)
    legend_rows = math.ceil(len(kinds) / 2) + (1 if has_support else 0) + (1 if has_deceased else 0)
    height = SIZE + (legend_rows * LEGEND_ROW + 16 if legend_rows else 0)

    parts: list[str] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="svg-figure '
            'closeness-circle" role="img" aria-labelledby="{}-title {}-desc" id="{}">'
            '<title id="{}-title">{}</title>'
            '<desc id="{}-desc">{} people: {} on ring 1 (closest), {} on ring 2, {} on ring 3.'
            "</desc>",
            SIZE,
            height,
            svg_id,
            svg_id,
            svg_id,
            svg_id,
            title,
            svg_id,
            len(people),
            len(by_ring[1]),
            len(by_ring[2]),
            len(by_ring[3]),
        )
    ]
    for ring, radius in RING_RADII.items():
        # The ring's own label sits half-way between two people, never under a dot.
        count = len(by_ring[ring])
        angle = _start_angle(ring) + (math.pi / count if count else 0)
        parts.append(
            format_html(
                '<circle class="ring" data-ring="{}" cx="{}" cy="{}" r="{}" fill="none" '
                'stroke="#6c757d" stroke-width="1" stroke-dasharray="4 3"/>'
                '<text x="{}" y="{}" font-size="10" fill="#495057" text-anchor="middle">'
                "ring {}</text>",
                ring,
                CENTRE,
                CENTRE,
                radius,
                round(CENTRE + radius * math.cos(angle), 2),
                round(CENTRE + radius * math.sin(angle) + 3, 2),
                ring,
            )
        )
    parts.append(
        format_html(
            '<g class="centre"><circle cx="{}" cy="{}" r="22" fill="#212529"/>'
            '<text x="{}" y="{}" font-size="11" fill="#ffffff" text-anchor="middle">{}</text></g>',
            CENTRE,
            CENTRE,
            CENTRE,
            CENTRE + 4,
            _short(centre_label),
        )
    )
    for ring, ring_people in by_ring.items():
        for index, person in enumerate(ring_people):
            x, y = person_position(index, len(ring_people), ring)
            code, colour = KIND_STYLE.get(person.kind, KIND_STYLE[RelationshipKind.OTHER])
            kind_label = (
                RelationshipKind(person.kind).label if person.kind in KIND_STYLE else person.kind
            )
            parts.append(
                format_html(
                    '<g class="person" data-relationship-id="{}" data-ring="{}" data-kind="{}">'
                    "<title>{} — {}{}, ring {}{}</title>"
                    '<circle cx="{}" cy="{}" r="{}" fill="{}" stroke="{}" stroke-width="{}"/>'
                    '<text x="{}" y="{}" font-size="9" font-weight="bold" fill="#ffffff" '
                    'text-anchor="middle">{}</text>'
                    '<text class="person-name" x="{}" y="{}" font-size="11" fill="#212529" '
                    'text-anchor="middle">{}</text></g>',
                    person.relationship_id,
                    ring,
                    person.kind,
                    person.name,
                    kind_label,
                    ", has died" if person.deceased else "",
                    ring,
                    ", a source of support" if person.is_support else "",
                    x,
                    y,
                    DOT_RADIUS,
                    colour,
                    "#000000" if person.is_support else "#ffffff",
                    3 if person.is_support else 1,
                    x,
                    y + 3,
                    code,
                    x,
                    y + DOT_RADIUS + 11,
                    _short(person.name) + (" †" if person.deceased else ""),
                )
            )
    if legend_rows:
        top = SIZE + 8
        parts.append(mark_safe('<g class="legend" font-size="11" fill="#212529">'))  # noqa: S308  # nosec B308
        for i, kind in enumerate(kinds):
            code, colour = KIND_STYLE[kind]
            x = 20 + (i % 2) * 190
            y = top + (i // 2) * LEGEND_ROW
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="9" fill="{}"/>'
                    '<text x="{}" y="{}" font-size="8" font-weight="bold" fill="#ffffff" '
                    'text-anchor="middle">{}</text><text x="{}" y="{}">{}</text>',
                    x,
                    y + 9,
                    colour,
                    x,
                    y + 12,
                    code,
                    x + 14,
                    y + 13,
                    RelationshipKind(kind).label,
                )
            )
        if has_support:
            y = top + math.ceil(len(kinds) / 2) * LEGEND_ROW
            parts.append(
                format_html(
                    '<circle cx="20" cy="{}" r="9" fill="#ffffff" stroke="#000000" '
                    'stroke-width="3"/><text x="34" y="{}">Thick black outline: a source of '
                    "support</text>",
                    y + 9,
                    y + 13,
                )
            )
        if has_deceased:
            y = top + (math.ceil(len(kinds) / 2) + (1 if has_support else 0)) * LEGEND_ROW
            parts.append(format_html('<text x="14" y="{}">† after a name: has died</text>', y + 13))
        parts.append(mark_safe("</g>"))  # noqa: S308 - a constant closing tag  # nosec B308
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant closing tag  # nosec B308
    return mark_safe("".join(parts))  # noqa: S308 - every part above is format_html output  # nosec B308 B703
