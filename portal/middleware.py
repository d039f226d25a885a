"""Middleware for the patient portal under /p/.

``PortalHeadersMiddleware``: the portal's private headers on every answer under /p/, including
the ones no portal view wrote. ``portal_response`` already sets them on the portal's own views;
a CSRF failure (403), a wrong method (405) or any other answer made around a view would
otherwise go out with the staff defaults, and the personal-link address could leak through a
Referer or a cache.

``PortalOriginMiddleware``: lets Django's CSRF check accept a portal form posted from a portal
page. The portal's ``Referrer-Policy: no-referrer`` makes browsers send ``Origin: null`` with
every form POST (the Fetch standard's rule for that policy), and Django's CsrfViewMiddleware
refuses a POST whose Origin does not match the host. For /p/ only, when the browser's Fetch
Metadata says the request came from this same origin (``Sec-Fetch-Site: same-origin``, which
a page cannot set), the null Origin is replaced by our own before the CSRF check runs. The
CSRF token is still checked on every POST; any other request reaches the check unchanged.
(A subclass of CsrfViewMiddleware would do the same but fails Django's deploy check W003.)
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .decorators import portal_headers

PORTAL_PREFIX = "/p/"


class PortalHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(PORTAL_PREFIX):
            portal_headers(response)
        return response


class PortalOriginMiddleware:
    """Must come before ``django.middleware.csrf.CsrfViewMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
            and request.path_info.startswith(PORTAL_PREFIX)
        ):
            scheme = "https" if request.is_secure() else "http"
            request.META["HTTP_ORIGIN"] = f"{scheme}://{request.get_host()}"
        return self.get_response(request)
