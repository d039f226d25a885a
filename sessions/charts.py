"""The course's score chart as server-rendered SVG: PHQ-9 and GAD-7 over time, the phases as
labelled bands behind, life events as numbered markers, the PHQ-9 severity thresholds. The
WSAS (functioning, 0-40) is drawn in a panel of its own under it (``wsas_chart_svg``), on its
own scale and the same time axis, so that its totals are never read against the PHQ-9's bands.

Readable without colour: the two series differ by line pattern (solid / dashed) and marker
shape (circle / square) and are labelled at their ends; every band, threshold and event has
a text label; the SVG has a <title> and <desc>, and the page shows the same figures as a table.
Every piece of text goes through ``format_html`` (escaped).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ipt_clinic.dates import HISTORY_FIRST, HISTORY_LAST
from phases.models import Phase

from .display import day_and_time, instrument_label
from .scoring import unscored_words
from .selectors import ChartData

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 44, 96, 30, 64
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM
Y_MAX = 27
PHQ9_THRESHOLDS = ((5, "mild"), (10, "moderate"), (15, "mod. severe"), (20, "severe"))
PHASE_SHORT = {
    Phase.INITIAL: "Initial",
    Phase.SOCIAL: "Social",
    Phase.PROBLEM_SOLVING: "Problem-solving",
    Phase.TERMINATION: "Termination",
    Phase.COMPLETED: "Completed",
    Phase.MAINTENANCE: "Maintenance",
}
BAND_FILLS = ("#eef1f5", "#fbfbfc")
# The chart draws what lies within the years a date may be typed in (ipt_clinic.dates); a
# value stored outside them (a typo such as 9999) is left out of the drawing, never out of
# the table under it, and cannot stretch the time axis past the calendar's end.
DRAWN_FROM = datetime.combine(HISTORY_FIRST, datetime.min.time(), tzinfo=UTC)
DRAWN_UNTIL = datetime.combine(HISTORY_LAST, datetime.max.time(), tzinfo=UTC)


# The two series, told apart by line pattern and marker shape as well as colour:
# (instrument, label, colour, stroke-dasharray, marker shape).
SERIES = (
    ("phq9", "PHQ-9", "#1f4e9c", "", "circle"),
    ("gad7", "GAD-7", "#9c4a00", "6 4", "square"),
)
# The WSAS panel: its series, its scale and the bands of Mundt et al. (2002).
WSAS_SERIES = ("wsas", "WSAS", "#2e6b34", "", "diamond")
WSAS_HEIGHT = 200
WSAS_PLOT_H = WSAS_HEIGHT - TOP - 30
WSAS_Y_MAX = 40
WSAS_THRESHOLDS = ((10, "significant impairment"), (21, "severe impairment"))


def series_marker(shape: str, cx: float, cy: float, colour: str, tip: str) -> SafeString:
    """One point of a series: a filled circle, an open square or a filled diamond, with its
    text as a tooltip (``tip`` is escaped)."""
    if shape == "diamond":
        return format_html(
            '<path d="M {} {} l 5 5 l -5 5 l -5 -5 z" fill="{}" stroke="#fff"><title>{}</title>'
            "</path>",
            cx,
            round(cy - 5, 1),
            colour,
            tip,
        )
    if shape == "circle":
        return format_html(
            '<circle cx="{}" cy="{}" r="4.5" fill="{}" stroke="#fff"><title>{}</title></circle>',
            cx,
            cy,
            colour,
            tip,
        )
    return format_html(
        '<rect x="{}" y="{}" width="8" height="8" fill="#fff" stroke="{}" '
        'stroke-width="2"><title>{}</title></rect>',
        round(cx - 4, 1),
        round(cy - 4, 1),
        colour,
        tip,
    )


def drawn(moment: datetime) -> bool:
    """Whether a chart draws ``moment`` (within the years a date may be typed in)."""
    return _drawn(moment)


def _drawn(moment: datetime) -> bool:
    return DRAWN_FROM <= moment <= DRAWN_UNTIL


def _drawn_day(day: date) -> bool:
    return HISTORY_FIRST <= day <= HISTORY_LAST


@dataclass
class Band:
    phase: str
    start: datetime
    end: datetime


def phase_bands(data: ChartData, start: datetime, end: datetime) -> list[Band]:
    """The phases as time spans: the course starts in the initial phase; each transition
    (forward or back) starts the phase it moved to."""
    bands: list[Band] = []
    current, since = Phase.INITIAL.value, start
    for transition in data.transitions:
        if not _drawn(transition.at):
            continue
        if transition.kind == "started":
            current, since = transition.to_phase, min(since, transition.at)
            continue
        if transition.at > since:
            bands.append(Band(current, since, transition.at))
        current, since = transition.to_phase, max(since, transition.at)
    if end > since:
        bands.append(Band(current, since, end))
    return bands


def _time_range(data: ChartData, tz) -> tuple[datetime, datetime]:
    course = data.course
    first_day = min(max(course.start_date, HISTORY_FIRST), HISTORY_LAST)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    moments = [m.taken_at for m in data.measures] + [t.at for t in data.transitions]
    moments = [moment for moment in moments if _drawn(moment)]
    moments += [
        datetime.combine(e.occurred_on, datetime.min.time(), tzinfo=tz)
        for e in data.life_events
        if _drawn_day(e.occurred_on) and e.occurred_on >= first_day - timedelta(days=90)
    ]
    end = course.ended_at if course.ended_at and _drawn(course.ended_at) else timezone.now()
    if moments:
        start = min(start, *moments)
        end = max(end, *moments)
    if end - start < timedelta(days=7):
        end = start + timedelta(days=7)
    return start, end + (end - start) * 0.02


def _phase_rects(data: ChartData, start, end, x, plot_h: float, *, labelled: bool) -> list:
    """The phases as shaded bands behind a plot ``plot_h`` high, named at the top when
    ``labelled`` (the WSAS panel under the chart repeats the bands, not their names)."""
    parts = []
    for index, band in enumerate(phase_bands(data, start, end)):
        x0, x1 = x(band.start), x(band.end)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#adb5bd" '
                'stroke-width="0.5"><title>{}</title></rect>',
                x0,
                TOP,
                max(round(x1 - x0, 1), 0.5),
                plot_h,
                BAND_FILLS[index % 2],
                Phase(band.phase).label if band.phase in Phase.values else band.phase,
            )
        )
        if labelled:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" fill="#343a40">{}</text>',
                    x0 + 3,
                    TOP - 6 if index % 2 == 0 else TOP + 12,
                    PHASE_SHORT.get(band.phase, band.phase),
                )
            )
    return parts


def _date_ticks(start, end, x, plot_h: float, tz) -> list:
    """Start, end and three days between under a plot ``plot_h`` high."""
    parts = []
    for step in range(5):
        moment = start + (end - start) * (step / 4)
        parts.append(
            format_html(
                '<line x1="{x}" y1="{b}" x2="{x}" y2="{b2}" stroke="#212529"/>'
                '<text x="{x}" y="{ty}" font-size="10" text-anchor="middle" '
                'fill="#212529">{label}</text>',
                x=x(moment),
                b=TOP + plot_h,
                b2=TOP + plot_h + 4,
                ty=TOP + plot_h + 15,
                label=timezone.localtime(moment, tz).strftime("%d %b %Y"),
            )
        )
    return parts


def score_chart_svg(data: ChartData, *, tz) -> SafeString:
    start, end = _time_range(data, tz)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + PLOT_W * (moment - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + PLOT_H * (1 - score / Y_MAX), 1)

    chart_id = f"score-chart-{data.course.pk}"
    parts: list[str] = []

    # Phase bands, labelled at the top.
    parts.extend(_phase_rects(data, start, end, x, PLOT_H, labelled=True))

    # Axes and PHQ-9 thresholds.
    parts.append(
        format_html(
            '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#212529"/>'
            '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#212529"/>',
            l=LEFT,
            r=LEFT + PLOT_W,
            t=TOP,
            b=TOP + PLOT_H,
        )
    )
    for value in (0, 5, 10, 15, 20, 27):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#212529">{}</text>',
                LEFT - 4,
                y(value) + 3,
                value,
            )
        )
    for value, label in PHQ9_THRESHOLDS:
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#6c757d" stroke-dasharray="1 3"/>'
                '<text x="{}" y="{}" font-size="9" fill="#495057">PHQ-9 {} ({})</text>',
                LEFT,
                y(value),
                LEFT + PLOT_W,
                y(value),
                LEFT + 4,
                y(value) - 2,
                value,
                label,
            )
        )

    # Date ticks: start, end and three between, in the clinic's calendar.
    parts.extend(_date_ticks(start, end, x, PLOT_H, tz))

    # The two series.
    for code, label, colour, dash, shape in SERIES:
        points = [m for m in data.measures if m.instrument == code and _drawn(m.taken_at)]
        if not points:
            continue
        coords = " ".join(f"{x(m.taken_at)},{y(m.total)}" for m in points)
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
                'stroke-dasharray="{}"/>',
                coords,
                colour,
                dash or "none",
            )
        )
        for measure in points:
            cx, cy = x(measure.taken_at), y(measure.total)
            ordinal = data.session_ordinals.get(measure.session_id)
            tip = format_html(
                "{} {} ({}) on {}{}",
                label,
                measure.total,
                measure.severity,
                timezone.localtime(measure.taken_at, tz).strftime("%d %b %Y"),
                f", session {ordinal}" if ordinal else "",
            )
            parts.append(series_marker(shape, cx, cy, colour, tip))
        last = points[-1]
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" font-weight="bold" fill="{}">{} {}</text>',
                LEFT + PLOT_W + 6,
                y(last.total) + (4 if code == "phq9" else 16),
                colour,
                label,
                last.total,
            )
        )

    # Life events: numbered triangles below the axis (the table lists them).
    for number, event in enumerate(data.life_events, start=1):
        if not _drawn_day(event.occurred_on):
            continue
        moment = datetime.combine(event.occurred_on, datetime.min.time(), tzinfo=tz)
        if not start <= moment <= end:
            continue
        ex, ey = x(moment), TOP + PLOT_H + 30
        parts.append(
            format_html(
                '<g><title>{}: {}</title><path d="M {} {} l 6 10 l -12 0 z" fill="#212529"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#212529">{}'
                "</text></g>",
                event.occurred_on.strftime("%d %b %Y"),
                event.description,
                ex,
                ey - 5,
                ex,
                ey + 18,
                number,
            )
        )
    if data.life_events:
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" fill="#212529">▲ life events</text>',
                LEFT + PLOT_W + 6,
                TOP + PLOT_H + 34,
            )
        )

    phq = [m.total for m in data.measures if m.instrument == "phq9"]
    gad = [m.total for m in data.measures if m.instrument == "gad7"]
    description = (
        f"PHQ-9: {len(phq)} scores"
        + (f", first {phq[0]}, latest {phq[-1]}" if phq else "")
        + f". GAD-7: {len(gad)} scores"
        + (f", first {gad[0]}, latest {gad[-1]}" if gad else "")
        + f". {len(data.transitions)} phase changes, {len(data.life_events)} life events. "
        "The table below lists every value."
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" class="svg-figure" font-family="system-ui, sans-serif" role="img" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">Symptom scores over the course: PHQ-9 (solid line, circles) '
        'and GAD-7 (dashed line, squares)</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        w=WIDTH,
        h=HEIGHT,
        id=chart_id,
        desc=description,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html  # nosec B308 B703
    )


def wsas_chart_svg(data: ChartData, *, tz) -> SafeString:
    """The WSAS panel: its totals over the same time axis as ``score_chart_svg`` (same width,
    margins and time range, so a day falls at the same place in both), on its own 0-40 scale
    with the bands of Mundt et al. (2002) as labelled lines: 10 (significant impairment) and
    21 (severe impairment). Empty when the course has no WSAS to draw."""
    code, label, colour, dash, shape = WSAS_SERIES
    points = [m for m in data.measures if m.instrument == code and _drawn(m.taken_at)]
    if not points:
        return SafeString("")
    start, end = _time_range(data, tz)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + PLOT_W * (moment - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + WSAS_PLOT_H * (1 - score / WSAS_Y_MAX), 1)

    parts: list[str] = _phase_rects(data, start, end, x, WSAS_PLOT_H, labelled=False)
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="11" font-weight="bold" fill="#212529">'
            "WSAS: work and social adjustment (0-40, higher is more impaired)</text>"
            '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#212529"/>'
            '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#212529"/>',
            LEFT,
            TOP - 8,
            l=LEFT,
            r=LEFT + PLOT_W,
            t=TOP,
            b=TOP + WSAS_PLOT_H,
        )
    )
    for value in (0, 10, 20, 30, 40):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#212529">{}</text>',
                LEFT - 4,
                y(value) + 3,
                value,
            )
        )
    for value, words in WSAS_THRESHOLDS:
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#6c757d" stroke-dasharray="1 3"/>'
                '<text x="{}" y="{}" font-size="9" fill="#495057">WSAS {} ({})</text>',
                LEFT,
                y(value),
                LEFT + PLOT_W,
                y(value),
                LEFT + 4,
                y(value) - 2,
                value,
                words,
            )
        )
    parts.extend(_date_ticks(start, end, x, WSAS_PLOT_H, tz))
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
        ordinal = data.session_ordinals.get(measure.session_id)
        unscored = unscored_words(code, measure.answers)
        tip = format_html(
            "{} {} ({}) on {}{}{}",
            label,
            measure.total,
            measure.severity,
            timezone.localtime(measure.taken_at, tz).strftime("%d %b %Y"),
            f", session {ordinal}" if ordinal else "",
            f"; {unscored}" if unscored else "",
        )
        parts.append(series_marker(shape, x(measure.taken_at), y(measure.total), colour, tip))
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="12" font-weight="bold" fill="{}">{} {}</text>',
            LEFT + PLOT_W + 6,
            y(points[-1].total) + 4,
            colour,
            label,
            points[-1].total,
        )
    )
    every = [m for m in data.measures if m.instrument == code]
    description = (
        f"WSAS: {len(every)} scores, first {every[0].total} ({every[0].severity}), latest "
        f"{every[-1].total} ({every[-1].severity}). Dotted lines at 10 (significant "
        "impairment) and 21 (severe impairment). The table below lists every value."
    )
    chart_id = f"wsas-chart-{data.course.pk}"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" class="svg-figure" font-family="system-ui, sans-serif" role="img" '
        'aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">Work and social adjustment (WSAS) over the course: solid '
        "green line, diamonds, on its own scale of 0 to 40</title>"
        '<desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=WSAS_HEIGHT,
        id=chart_id,
        desc=description,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html  # nosec B308 B703
    )


def chart_table_rows(data: ChartData, tz) -> list[dict]:
    """The chart's figures as rows (date, session, instrument, total, severity) for the
    table under the chart, written out here (a long course has dozens)."""
    rows = []
    for measure in data.measures:
        ordinal = data.session_ordinals.get(measure.session_id)
        rows.append(
            {
                "taken": day_and_time(measure.taken_at, tz),
                "session": str(ordinal) if ordinal else "—",
                "instrument": instrument_label(measure.instrument),
                "total": str(measure.total),
                "severity": measure.severity,
                "unscored": unscored_words(measure.instrument, measure.answers),
                "risk_flag": measure.risk_flag,
            }
        )
    return rows
