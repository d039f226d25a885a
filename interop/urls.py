from django.urls import path

from . import views

app_name = "interop"

urlpatterns = [
    path("courses/<int:course_id>/fhir.json", views.course_fhir, name="course_fhir"),
    path("bulk/", views.bulk_exports, name="bulk_exports"),
    path("bulk/<int:job_id>/", views.bulk_export, name="bulk_export"),
    path("bulk/<int:job_id>/manifest.json", views.bulk_manifest, name="bulk_manifest"),
    path("bulk/<int:job_id>/<str:resource_type>.ndjson", views.bulk_file, name="bulk_file"),
]
