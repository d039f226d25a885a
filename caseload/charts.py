"""Server-rendered SVG bar charts (``templates/caseload/_bar_chart.html``).

Every bar carries its label and its value as text, and the two series of a paired chart
differ in pattern (solid or outlined) as well as colour, so nothing is said by colour alone.
"""

from dataclasses import dataclass

LABEL_WIDTH = 230
VALUE_WIDTH = 120
BAR_AREA = 360
ROW_HEIGHT = 26
BAR_HEIGHT = 18
SERIES_STYLES = [
    {"fill": "#0b5ed7", "stroke": "#0b5ed7"},  # solid
    {"fill": "#ffffff", "stroke": "#6f42c1"},  # outlined
]


@dataclass
class ChartBar:
    label: str
    text: str
    width: float
    y: int
    text_y: int
    value_x: float
    fill: str
    stroke: str


@dataclass
class BarChart:
    id: str
    title: str
    description: str
    bars: list[ChartBar]
    height: int
    legend: list[tuple[str, str, str]]
    width: int = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    label_x: int = LABEL_WIDTH - 8
    bar_x: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    items: list[tuple[str, float | None, str, int]],
    max_value: float | None = None,
    series: list[str] | None = None,
) -> BarChart:
    """``items`` are (label, value or None, text shown, series index). A None value draws no
    bar, only its text (e.g. "<5 — not shown")."""
    values = [value for _, value, _, _ in items if value is not None]
    top = max_value or max(values, default=0) or 1
    bars = []
    for index, (label, value, text, series_index) in enumerate(items):
        width = 0.0 if value is None else round(BAR_AREA * value / top, 1)
        y = 8 + index * ROW_HEIGHT
        style = SERIES_STYLES[series_index % len(SERIES_STYLES)]
        bars.append(
            ChartBar(
                label=label,
                text=text,
                width=width,
                y=y,
                text_y=y + BAR_HEIGHT - 4,
                value_x=LABEL_WIDTH + width + 6,
                fill=style["fill"],
                stroke=style["stroke"],
            )
        )
    legend = [
        (name, SERIES_STYLES[i % 2]["fill"], SERIES_STYLES[i % 2]["stroke"])
        for i, name in enumerate(series or [])
    ]
    return BarChart(
        id=chart_id,
        title=title,
        description=description,
        bars=bars,
        height=16 + len(items) * ROW_HEIGHT,
        legend=legend,
    )
