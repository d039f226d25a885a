"""Refused record requests leave an audit row.

The access helpers (``patients.access``) answer 404 alike for a record that is missing and one
the user may not see, raising ``RecordRefused``. Here, with the request at hand, a refusal met
by a logged-in member of staff is written down as a denial (who, which record id they asked
for, from where); the response stays the plain 404 it would have been."""

from django.http import HttpRequest

from .access import RecordRefused
from .services import record_refusal


class RefusalAuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, RecordRefused) and request.user.is_authenticated:
            record_refusal(request=request, model=exception.model, record_id=exception.record_id)
        # None: Django goes on to its 404 handler, as without this middleware.
