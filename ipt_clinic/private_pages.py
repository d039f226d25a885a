"""Staff pages stay on the screen they were shown on.

``PrivatePagesMiddleware`` (after AuthenticationMiddleware): an answer to a staff session (one
that came with the request, or one the request started or ended: the login, the logout) is
never stored (``Cache-Control: no-store`` with Django's other never-cache headers). On a
shared workstation the browser keeps no copy of a clinical page to show the next person
through Back, its history or its disk cache after logout.

The pages a link's token opens are private already: the portal's by its own decorator and
middleware (no-store, no Referer at all), the invitation's and the password reset's by their
views (never_cache), under the site's ``same-origin`` Referer policy. That one is kept there
on purpose: the token goes to no other site and our own logs redact it
(``ipt_clinic.log_redaction``), while ``no-referrer`` would make the browser post their
password forms with ``Origin: null``, which the CSRF check refuses. Static files are answered
before this (WhiteNoise) and keep their long cache.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def _staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        staff_before = _staff(request)
        response = self.get_response(request)
        if staff_before or _staff(request):
            add_never_cache_headers(response)
        return response
