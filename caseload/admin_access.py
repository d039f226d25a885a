"""The clinic-admin pages answer 404 to everyone else, so they do not reveal that they exist."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse


def clinic_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; staff who are not an active clinic admin with a
    clinic get 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_active and user.is_clinic_admin and user.clinic_id is not None):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped
