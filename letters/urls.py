from django.urls import path

from . import views

app_name = "letters"

urlpatterns = [
    path("course/<int:course_id>/new/", views.letter_create, name="create"),
    path("<int:letter_id>/", views.letter_detail, name="detail"),
    path("<int:letter_id>/edit/", views.letter_edit, name="edit"),
    path("<int:letter_id>/sign/", views.letter_sign, name="sign"),
    path("<int:letter_id>/pdf/", views.letter_pdf, name="pdf"),
]
