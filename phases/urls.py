from django.urls import path

from . import maintenance_views, views

app_name = "phases"

urlpatterns = [
    path("new/<int:patient_id>/", views.course_create, name="course_create"),
    path("<int:course_id>/", views.course_detail, name="course"),
    path("<int:course_id>/contract/", views.course_edit, name="course_edit"),
    path("<int:course_id>/formulation/", views.course_formulation, name="formulation"),
    path(
        "<int:course_id>/formulation/for-patient/",
        views.formulation_for_patient,
        name="formulation_for_patient",
    ),
    path(
        "<int:course_id>/formulation/for-patient/withdraw/",
        views.formulation_withdraw,
        name="formulation_withdraw",
    ),
    path("<int:course_id>/advance/", views.course_advance, name="advance"),
    path("<int:course_id>/move-back/", views.course_move_back, name="move_back"),
    path("<int:course_id>/drop-out/", views.course_drop_out, name="drop_out"),
    path("<int:course_id>/relapse-plan/", views.relapse_plan_edit, name="relapse_plan"),
    path(
        "<int:course_id>/maintenance/new/",
        maintenance_views.maintenance_start,
        name="maintenance_start",
    ),
    path("<int:course_id>/mid-course-review/", views.mid_course_review, name="mid_course_review"),
    path("<int:course_id>/ending/", views.course_ending, name="ending"),
    path(
        "<int:course_id>/problem-areas/new/",
        views.problem_area_create,
        name="problem_area_create",
    ),
    path(
        "problem-areas/<int:problem_area_id>/edit/",
        views.problem_area_edit,
        name="problem_area_edit",
    ),
    path(
        "problem-areas/<int:problem_area_id>/remove/",
        views.problem_area_remove,
        name="problem_area_remove",
    ),
    path(
        "problem-areas/<int:problem_area_id>/stage/",
        views.dispute_stage_record,
        name="dispute_stage",
    ),
    path("problem-areas/<int:problem_area_id>/goals/new/", views.goal_create, name="goal_create"),
    path("goals/<int:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/remove/", views.goal_remove, name="goal_remove"),
]
