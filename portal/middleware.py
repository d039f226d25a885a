"""Portal headers on every answer under /p/, including the ones no portal view wrote.

``portal_response`` already sets them on the portal's own views; a CSRF failure (403), a wrong
method (405) or any other answer made before or around a view would otherwise go out with the
staff defaults, and the personal-link address could leak through a Referer or a cache.
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
