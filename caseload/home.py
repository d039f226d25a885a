"""The therapist's home: their caseload grouped by phase, with pacing and risk flags.

Other areas add their panels below (one line each, a context key their partial in
``templates/caseload/_home_extra_*.html`` reads); keep each a fixed number of queries.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.selectors import portal_activity_since
from sessions.selectors import unsigned_notes_overdue

from . import home_selectors


@login_required
def therapist_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = home_selectors.therapist_home(user)
    # --- panels from other areas (one line each) ---
    context["portal_activity"] = portal_activity_since(user)
    context["overdue_notes"] = unsigned_notes_overdue(user)
    return render(request, "caseload/home.html", context)
