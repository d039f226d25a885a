from django.urls import path

from . import staff_views, views

app_name = "portal"

urlpatterns = [
    # The therapist's side (staff sessions only).
    path("staff/patients/<int:patient_id>/link/", staff_views.link_manage, name="link_manage"),
    path("staff/patients/<int:patient_id>/link/new/", staff_views.link_create, name="link_create"),
    path(
        "staff/patients/<int:patient_id>/link/<int:link_id>/revoke/",
        staff_views.link_revoke,
        name="link_revoke",
    ),
    path("staff/activity/seen/", staff_views.activity_seen, name="activity_seen"),
    # The patient's side.
    path("", views.home, name="home"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:session_id>/calendar.ics", views.session_ics_download, name="session_ics"),
    path("homework/", views.homework, name="homework"),
    path("homework/<int:assignment_id>/", views.homework_detail, name="homework_detail"),
    path(
        "homework/<int:assignment_id>/entries/",
        views.homework_entry_new,
        name="homework_entry_new",
    ),
    path(
        "homework/<int:assignment_id>/entries/<int:entry_id>/",
        views.homework_entry_change,
        name="homework_entry_change",
    ),
    path("questionnaires/<slug:instrument>/", views.questionnaire, name="questionnaire"),
    path(
        "questionnaires/thanks/<int:measure_id>/",
        views.questionnaire_thanks,
        name="questionnaire_thanks",
    ),
    path("progress/", views.progress, name="progress"),
    path("plan/", views.plan, name="plan"),
    path("agreed/", views.agreed, name="agreed"),
    path("about-ipt/", views.about_ipt, name="about_ipt"),
    path("leave/", views.leave, name="leave"),
    # "Lost your link?": public, no token, no staff login.
    path("lost/", views.lost_link, name="lost_link"),
    path("lost/asked/", views.lost_link_asked, name="lost_link_asked"),
    # Last: the personal link itself.
    path("<str:token>/", views.exchange, name="exchange"),
]
