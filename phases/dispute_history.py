"""A role dispute's stage history drawn as an SVG on the server: one row per stage, one
point per recorded session in order, a line joining them. The table beside it on the course
page carries the same history as text; the picture has a title and a description that say
it in words, so it reads without colour or sight.
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .models import DisputeStage

WIDTH = 560
LEFT = 110  # room for the stage names
RIGHT = 30
TOP = 14
ROW = 34
STAGE_ROWS = {stage: index for index, stage in enumerate(DisputeStage.values)}
# Dark enough for the points to stand out on white (WCAG non-text contrast 3:1).
STAGE_COLOURS = {
    DisputeStage.IMPASSE: "#b02a37",
    DisputeStage.RENEGOTIATION: "#146c43",
    DisputeStage.DISSOLUTION: "#495057",
}


def _day(value) -> str:
    return f"{value.day} {value:%b}"


def stage_history_svg(entries: list, *, svg_id: str, title: str) -> SafeString:
    """``entries``: the area's ``DisputeStageEntry`` rows in order (at least one)."""
    height = TOP + ROW * len(STAGE_ROWS) + 24
    step = (WIDTH - LEFT - RIGHT) / max(len(entries) - 1, 1)
    described = "; ".join(
        f"{entry.get_stage_display().lower()} on {_day(entry.recorded_on)} {entry.recorded_on.year}"
        for entry in entries
    )
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="svg-figure '
            'stage-history" role="img" aria-labelledby="{}-title {}-desc" id="{}">'
            '<title id="{}-title">{}</title><desc id="{}-desc">Stage recorded {} time{}: {}.'
            "</desc>",
            WIDTH,
            height,
            svg_id,
            svg_id,
            svg_id,
            svg_id,
            title,
            svg_id,
            len(entries),
            "" if len(entries) == 1 else "s",
            described,
        )
    ]
    for stage, row in STAGE_ROWS.items():
        y = TOP + row * ROW + ROW / 2
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" fill="#212529" text-anchor="end">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ced4da" stroke-width="1"/>',
                LEFT - 10,
                y + 4,
                DisputeStage(stage).label,
                LEFT,
                y,
                WIDTH - RIGHT,
                y,
            )
        )
    points = []
    for index, entry in enumerate(entries):
        x = round(LEFT + (index * step if len(entries) > 1 else (WIDTH - LEFT - RIGHT) / 2), 2)
        y = TOP + STAGE_ROWS.get(entry.stage, 0) * ROW + ROW / 2
        points.append((x, y, entry))
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y, _ in points)
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="#6c757d" stroke-width="2"/>', path
            )
        )
    label_y = TOP + ROW * len(STAGE_ROWS) + 14
    for x, y, entry in points:
        parts.append(
            format_html(
                '<g class="stage-point" data-stage="{}"><title>{}: {}</title>'
                '<circle cx="{}" cy="{}" r="7" fill="{}" stroke="#ffffff" stroke-width="2"/>'
                '<text x="{}" y="{}" font-size="10" fill="#495057" text-anchor="middle">{}'
                "</text></g>",
                entry.stage,
                _day(entry.recorded_on),
                entry.get_stage_display(),
                x,
                y,
                STAGE_COLOURS.get(entry.stage, "#495057"),
                x,
                label_y,
                _day(entry.recorded_on),
            )
        )
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant closing tag  # nosec B308
    return mark_safe("".join(parts))  # noqa: S308 - every part above is format_html output  # nosec B308 B703
