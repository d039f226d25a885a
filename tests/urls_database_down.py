"""A URLconf for one test: a page whose database connection cannot be opened."""

from django.db import connections
from django.urls import path

from ipt_clinic.urls import handler500
from ipt_clinic.urls import urlpatterns as app_urlpatterns


def page_needing_an_unreachable_database(request):
    settings_dict = dict(connections["default"].settings_dict)
    if connections["default"].vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="1", NAME="unreachable")
    else:
        settings_dict.update(NAME="/nonexistent-folder/unreachable.sqlite3")
    broken = connections["default"].__class__(settings_dict, alias="unreachable")
    broken.ensure_connection()  # raises the driver's own OperationalError


urlpatterns = [*app_urlpatterns, path("needs-db/", page_needing_an_unreachable_database)]

__all__ = ["handler500", "urlpatterns"]
