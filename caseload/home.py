"""The therapist's home: open risk flags first, their day (today's sessions, what is left to
close out, the next appointments), then their caseload grouped by phase, with pacing flags.
The unsigned notes older than 48 hours are in the close-out list, marked overdue.

Other areas add their panels below (one line each, a context key their partial in
``templates/caseload/_home_extra_*.html`` reads); keep each a fixed number of queries.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sessions.portal_activity import portal_activity_since

from . import home_selectors
from .home_audit import record_home_view


@login_required
def therapist_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = home_selectors.therapist_home(user)
    context.update(home_selectors.therapist_day(user))
    # --- panels from other areas (one line each) ---
    context["portal_activity"] = portal_activity_since(user)
    record_home_view(request, context)  # one audit event naming every patient shown
    return render(request, "caseload/home.html", context)
