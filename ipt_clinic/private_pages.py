"""Headers that keep a private page on the screen it was shown on.

``PrivatePagesMiddleware`` (after AuthenticationMiddleware):

- An answer to a staff session (one that came with the request, or one the request started
  or ended: the login, the logout) is never stored (``Cache-Control: no-store`` with Django's
  other never-cache headers): on a shared workstation the browser keeps no copy of a
  clinical page to show the next person through Back, its history or its disk cache after
  logout.
- An answer to an address that holds a link's secret (the token of a portal link, a staff
  invitation or a password reset, as ``ipt_clinic.log_redaction`` finds them) is never
  stored either. Its Referer stays the site's ``same-origin`` policy: the token goes to no
  other site, and our own logs redact it. ``no-referrer`` would make the browser send
  ``Origin: null`` with the page's form (the invitation's password), which the CSRF check
  refuses (the portal, whose pages send no Referer at all, lets its own forms through in
  ``portal.middleware``).

The patient portal's pages are private by their own decorator and middleware (``portal``);
static files are answered before this (WhiteNoise) and keep their long cache.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .log_redaction import secrets_in


def _staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        staff_before = _staff(request)
        response = self.get_response(request)
        if staff_before or _staff(request) or secrets_in(request.path):
            add_never_cache_headers(response)
        return response
