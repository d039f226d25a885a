"""``{% day_items sessions show_day %}``: the items of one of the therapist's day lists
(``caseload.day_html``), written in the time zone of the ``{% timezone %}`` block around it,
with the page's own form token; the links are reversed once for the page's three lists."""

from django import template

from caseload.day_html import DayRows

register = template.Library()


@register.simple_tag(takes_context=True)
def day_items(context, sessions, show_day):
    rows = context.render_context.get(DayRows)
    if rows is None:
        rows = context.render_context[DayRows] = DayRows(
            user=context["user"], now=context["now"], csrf_token=context.get("csrf_token")
        )
    return rows.items(sessions, show_day=show_day)
