"""The worksheet pages, included by ``sessions.urls`` into its namespace ("therapy")."""

from django.urls import path

from . import worksheets_views as views

urlpatterns = [
    path("<int:pk>/worksheets/new/<slug:kind>/", views.worksheet_new, name="worksheet_new"),
    path("worksheets/<int:worksheet_pk>/", views.worksheet_detail, name="worksheet"),
    path("worksheets/<int:worksheet_pk>/edit/", views.worksheet_edit, name="worksheet_edit"),
    path("worksheets/<int:worksheet_pk>/remove/", views.worksheet_remove, name="worksheet_remove"),
    path(
        "worksheets/<int:worksheet_pk>/homework/",
        views.worksheet_homework,
        name="worksheet_homework",
    ),
]
