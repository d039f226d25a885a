"""The items of the therapist's home's lists, written in Python.

``{% day_items sessions show_day %}``: the items of one of the day lists
(``caseload.day_html``), written in the time zone of the ``{% timezone %}`` block around it,
with the page's own form token; the links are reversed once for the page's three lists.
``{% portal_items portal_activity %}``: the portal panel's items (``caseload.portal_html``)."""

from django import template

from caseload.day_html import DayRows
from caseload.portal_html import portal_items as write_portal_items

register = template.Library()


@register.simple_tag(takes_context=True)
def day_items(context, sessions, show_day):
    rows = context.render_context.get(DayRows)
    if rows is None:
        rows = context.render_context[DayRows] = DayRows(
            user=context["user"], now=context["now"], csrf_token=context.get("csrf_token")
        )
    return rows.items(sessions, show_day=show_day)


@register.simple_tag
def portal_items(activity):
    """``{% portal_items portal_activity %}``: the portal panel's items
    (``caseload.portal_html``)."""
    return write_portal_items(activity)
