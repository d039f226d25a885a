"""Panels the apps above add to the course page.

The course page is the phases app's, but what happens in sessions (the sessions held, the
scores, open risk flags) belongs to the sessions app, above it. Rather than the page reaching
up for it, the sessions app registers a panel here from its ``ready()``: a template and a
function giving its context for a course. The course page renders each registered panel in
order, with the request (so forms carry their CSRF token).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CoursePanel:
    template: str
    # context(course, *, transitions) -> dict; ``transitions`` are the course's phase changes
    # the page has already read (in order), so a panel need not read them again.
    context: Callable[..., dict]


_panels: dict[str, CoursePanel] = {}


def register_course_panel(*, template: str, context: Callable[..., dict]) -> None:
    """Called from an app's ``ready()``; registering a template again replaces it."""
    _panels[template] = CoursePanel(template=template, context=context)


def course_panels() -> list[CoursePanel]:
    return list(_panels.values())
