"""A URLconf for one test: a page whose database connection cannot be opened."""

from django.db import connections
from django.http import HttpResponse
from django.urls import path

from ipt_clinic.urls import handler500
from ipt_clinic.urls import urlpatterns as app_urlpatterns


def unreachable_database(alias: str = "unreachable"):
    """A connection like the default one, to a database that cannot be opened."""
    settings_dict = dict(connections["default"].settings_dict)
    if connections["default"].vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="1", NAME="unreachable")
    else:
        settings_dict.update(NAME="/nonexistent-folder/unreachable.sqlite3")
    return connections["default"].__class__(settings_dict, alias=alias)


def page_needing_an_unreachable_database(request):
    unreachable_database().ensure_connection()  # raises the driver's own OperationalError


def page_whose_database_goes_away_before_the_session_is_saved(request):
    """The page's work is done; then, as in a restart, the database stops answering before
    the session middleware writes the session this request changed."""
    request.session["last_page"] = "outage"
    request.database_before_outage = connections["default"]
    connections["default"] = unreachable_database("default")
    return HttpResponse("done")


urlpatterns = [
    *app_urlpatterns,
    path("needs-db/", page_needing_an_unreachable_database),
    path("db-goes-away/", page_whose_database_goes_away_before_the_session_is_saved),
]

__all__ = ["handler500", "urlpatterns"]
