"""Answer 503 (not 500) while the database is unreachable, e.g. during a restart."""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            response = HttpResponse(
                "The service is briefly unavailable. Please try again in a moment.",
                status=503,
                content_type="text/plain",
            )
            response["Retry-After"] = "5"
            return response
        return None
