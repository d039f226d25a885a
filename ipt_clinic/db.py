"""Answer 503 (not 500) while the database is unreachable, e.g. during a restart.

Django turns an exception raised anywhere below the outermost middleware into a response
by calling the 500 handler while the exception is still being handled, so the handler can
tell a lost database connection from a bug and say "try again shortly" for the former.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error


def _database_unavailable() -> bool:
    exc = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if _database_unavailable():
        response = HttpResponse(
            "The service is briefly unavailable. Please try again in a moment.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "5"
        return response
    return django_server_error(request)
