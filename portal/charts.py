"""The patient's own PHQ-9 and GAD-7 over their course, as a small server-rendered SVG for the
portal's "My progress" page, and their WSAS in a chart of its own (its 0-40 scale is not the
symptoms' 0-27).

It draws what the staff chart draws of the scores (``sessions.charts``: the same series, told
apart by line pattern and marker shape as well as colour) and nothing clinical: no phases,
no life events, no labelled severity lines. It scales to the width of a phone; the page
gives the same figures as a table, and its title and description say what it shows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sessions.charts import SERIES, WSAS_SERIES, drawn, series_marker
from sessions.models import Measure

WIDTH, HEIGHT = 400, 260
LEFT, RIGHT, TOP, BOTTOM = 30, 16, 34, 30
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class ChartScale:
    """What one chart draws: its series and its upward scale, 0 to ``y_max``."""

    series: tuple
    y_max: int
    grid: tuple[int, ...]


SYMPTOMS = ChartScale(SERIES, 27, (0, 5, 10, 15, 20, 27))
WSAS = ChartScale((WSAS_SERIES,), 40, (0, 10, 20, 30, 40))
# What each band of scores (``sessions.scoring``) means, in the patient's words: how many
# symptoms, never a verdict.
BAND_WORDS = {
    "minimal": gettext_lazy("few or no symptoms"),
    "mild": gettext_lazy("some symptoms"),
    "moderate": gettext_lazy("a fair number of symptoms"),
    "moderately severe": gettext_lazy("many symptoms"),
    "severe": gettext_lazy("a lot of symptoms"),
    # The WSAS's bands: how much the problem gets in the way of everyday life.
    "subclinical": gettext_lazy("little effect on everyday life"),
    "significant impairment": gettext_lazy("gets in the way of everyday life"),
    "severe impairment": gettext_lazy("gets in the way of everyday life a great deal"),
}
INSTRUMENT_NAMES = {
    "phq9": gettext_lazy("Mood (PHQ-9)"),
    "gad7": gettext_lazy("Anxiety (GAD-7)"),
    "wsas": gettext_lazy("Work and daily life (WSAS)"),
}


def band_words(severity: str) -> str:
    return str(BAND_WORDS.get(severity, severity))


def instrument_name(code: str) -> str:
    return str(INSTRUMENT_NAMES[code])


def _day(moment: datetime, tz) -> str:
    return formats.date_format(timezone.localtime(moment, tz), "j M")


def _series_words(code: str, points: list[Measure]) -> str:
    if not points:
        return _("%(name)s: none yet.") % {"name": instrument_name(code)}
    return ngettext(
        "%(name)s: %(count)d score, %(first)d.",
        "%(name)s: %(count)d scores, first %(first)d, latest %(latest)d.",
        len(points),
    ) % {
        "name": instrument_name(code),
        "count": len(points),
        "first": points[0].total,
        "latest": points[-1].total,
    }


def progress_chart_svg(
    measures: list[Measure], *, tz, chart_id: str = "progress", scale: ChartScale = SYMPTOMS
) -> SafeString:
    """``measures`` (oldest first) of ``scale``'s series as lines over time, 0 to its top
    upwards: the PHQ-9 and GAD-7 (0 to 27), or the WSAS (0 to 40). A lower score means fewer
    symptoms, or less difficulty in everyday life."""
    codes = {code for code, *_rest in scale.series}
    measures = [m for m in measures if m.instrument in codes]
    shown = [m for m in measures if drawn(m.taken_at)]
    if shown:
        start = min(m.taken_at for m in shown)
        end = max(m.taken_at for m in shown)
    else:
        start = end = timezone.now()
    if end - start < timedelta(days=7):
        end = start + timedelta(days=7)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + 6 + (PLOT_W - 12) * (moment - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + PLOT_H * (1 - score / scale.y_max), 1)

    parts: list[str] = []
    for value in scale.grid:
        parts.append(
            format_html(
                '<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#ced4da"/>'
                '<text x="{tx}" y="{ty}" font-size="13" text-anchor="end" fill="#212529">{v}'
                "</text>",
                l=LEFT,
                r=LEFT + PLOT_W,
                y=y(value),
                tx=LEFT - 4,
                ty=y(value) + 4,
                v=value,
            )
        )
    parts.append(
        format_html(
            '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#212529"/>'
            '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#212529"/>',
            l=LEFT,
            r=LEFT + PLOT_W,
            t=TOP,
            b=TOP + PLOT_H,
        )
    )
    # The first and last day under the axis.
    for moment, anchor in ((start, "start"), (end, "end")):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="13" text-anchor="{}" fill="#212529">{}</text>',
                LEFT if anchor == "start" else LEFT + PLOT_W,
                TOP + PLOT_H + 18,
                anchor,
                _day(moment, tz),
            )
        )

    # The legend at the top: each line's pattern and marker with its name.
    legend_x = LEFT
    for code, _label, colour, dash, shape in scale.series:
        parts.append(
            format_html(
                '<line x1="{}" y1="14" x2="{}" y2="14" stroke="{}" stroke-width="2" '
                'stroke-dasharray="{}"/>',
                legend_x,
                legend_x + 28,
                colour,
                dash or "none",
            )
        )
        parts.append(series_marker(shape, legend_x + 14, 14, colour, instrument_name(code)))
        parts.append(
            format_html(
                '<text x="{}" y="18" font-size="14" fill="#212529">{}</text>',
                legend_x + 34,
                instrument_name(code),
            )
        )
        legend_x += 180

    for code, _label, colour, dash, shape in scale.series:
        points = [m for m in shown if m.instrument == code]
        if not points:
            continue
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
                    'stroke-dasharray="{}"/>',
                    " ".join(f"{x(m.taken_at)},{y(m.total)}" for m in points),
                    colour,
                    dash or "none",
                )
            )
        for measure in points:
            tip = _("%(name)s %(score)d on %(day)s") % {
                "name": instrument_name(code),
                "score": measure.total,
                "day": _day(measure.taken_at, tz),
            }
            parts.append(series_marker(shape, x(measure.taken_at), y(measure.total), colour, tip))

    if scale is WSAS:
        title = _(
            "Your work and daily life score over time (WSAS, solid line, diamonds), from 0 to "
            "40. A lower score means your problem gets in the way of everyday life less."
        )
    else:
        title = _(
            "Your scores over time: mood (PHQ-9, solid line, circles) and anxiety (GAD-7, "
            "dashed line, squares). A lower score means fewer symptoms."
        )
    description = " ".join(
        [
            _series_words(code, [m for m in measures if m.instrument == code])
            for code, *_rest in scale.series
        ]
        + [_("The table beside the chart lists every score.")]
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" class="progress-chart" '
        'font-family="system-ui, sans-serif" role="img" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=HEIGHT,
        id=chart_id,
        title=title,
        desc=description,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html  # nosec B308 B703
    )
