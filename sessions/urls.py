from django.urls import include, path

from . import booster_views, ending_views, risk_views, views

app_name = "therapy"

urlpatterns = [
    # Worksheets written in a session (sessions/worksheets_urls.py).
    path("", include("sessions.worksheets_urls")),
    path("week/", views.week, name="week"),
    path("course/<int:course_id>/", views.course_sessions, name="course_sessions"),
    path("course/<int:course_id>/book/", views.book, name="book"),
    path("course/<int:course_id>/book/series/", views.book_series, name="book_series"),
    path(
        "course/<int:course_id>/book/booster/",
        booster_views.booster_book_view,
        name="booster_book",
    ),
    path(
        "course/<int:course_id>/end/<slug:ending>/",
        ending_views.course_end_confirm,
        name="course_end_confirm",
    ),
    path(
        "patient/<int:patient_id>/end/<slug:ending>/",
        ending_views.patient_end_confirm,
        name="patient_end_confirm",
    ),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/note/start/", views.note_start, name="note_start"),
    path("<int:pk>/note/", views.note_edit, name="note"),
    path("<int:pk>/note/autosave/", views.note_autosave, name="note_autosave"),
    path("<int:pk>/note/sign/", views.note_sign, name="note_sign"),
    path("<int:pk>/note/addendum/", views.note_addendum, name="note_addendum"),
    path("<int:pk>/note/history/", views.note_history, name="note_history"),
    path("<int:pk>/measures/<str:instrument>/", views.measure_new, name="measure_new"),
    path("<int:pk>/homework/new/", views.assignment_new, name="assignment_new"),
    path("risk/<int:measure_pk>/", risk_views.risk_flag, name="risk_flag"),
    path(
        "risk/<int:measure_pk>/acknowledge/", risk_views.risk_acknowledge, name="risk_acknowledge"
    ),
    path("measures/<int:measure_pk>/risk/", risk_views.risk_respond, name="risk_respond"),
]
