"""The pages a refused request gets: a plain layout (the app's stylesheet, no script, no
navigation, nothing about the record asked for). Under the patient portal's address a
patient gets the portal's own wording and headers instead of the staff start page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


def _in_portal(request: HttpRequest) -> bool:
    portal = reverse("portal:home")
    return request.path_info.startswith(portal) and not request.path_info.startswith(
        f"{portal}staff/"
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: most often a form left open past the session's timeout, or sent
    again from an old tab. Nothing was saved; the page says so and how to carry on without
    losing what was typed. (Django's own page styles itself inline, which the CSP refuses.)"""
    # Under /p/ the portal's headers are added by portal.middleware, as on every answer there.
    return render(request, "errors/csrf.html", {"portal": _in_portal(request)}, status=403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """handler404: a missing record and a record this user may not see look alike."""
    if _in_portal(request):
        # The portal's own page (its headers come from portal.middleware); by template name,
        # as the project package imports no app.
        return render(request, "portal/not_found.html", status=404)
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)
