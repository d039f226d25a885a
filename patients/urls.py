from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/discharge/", views.patient_discharge, name="discharge"),
    path("<int:patient_id>/archive/", views.patient_archive, name="archive"),
    path("<int:patient_id>/history/", views.patient_history, name="history"),
    path("<int:patient_id>/circle/", views.patient_circle, name="circle"),
    path("<int:patient_id>/people/new/", views.relationship_create, name="relationship_create"),
    path("people/<int:relationship_id>/edit/", views.relationship_edit, name="relationship_edit"),
    path(
        "people/<int:relationship_id>/remove/",
        views.relationship_remove,
        name="relationship_remove",
    ),
    path("<int:patient_id>/events/new/", views.life_event_create, name="life_event_create"),
    path("events/<int:life_event_id>/edit/", views.life_event_edit, name="life_event_edit"),
    path("events/<int:life_event_id>/remove/", views.life_event_remove, name="life_event_remove"),
]
