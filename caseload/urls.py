from django.urls import path

from . import clinic_settings, dashboard, exports, home, notification_views, ops, staff

app_name = "caseload"

urlpatterns: list = [
    # The therapist's home (their caseload by phase).
    path("home/", home.therapist_home, name="therapist_home"),
    # The clinic admin's review (dashboard, drill-downs, outcomes, exports, staff, operations).
    path("clinic/", dashboard.dashboard, name="dashboard"),
    path("clinic/drilldown/", dashboard.drilldown, name="drilldown"),
    path("clinic/courses/", dashboard.courses, name="courses"),
    path("clinic/courses.csv", exports.export_courses, name="export_courses"),
    path("clinic/outcomes/", dashboard.outcomes, name="outcomes"),
    path("clinic/outcomes.csv", exports.export_outcomes, name="export_outcomes"),
    path("clinic/outcomes-recovery.csv", exports.export_recovery, name="export_recovery"),
    path("clinic/reassign/", staff.reassign, name="reassign"),
    path("clinic/staff/", staff.staff, name="staff"),
    path("clinic/staff/invite/", staff.staff_invite_view, name="staff_invite"),
    path("clinic/staff/deactivate/", staff.staff_deactivate_view, name="staff_deactivate"),
    path("clinic/staff/resend/", staff.staff_invite_resend_view, name="staff_invite_resend"),
    path("clinic/staff/withdraw/", staff.staff_invite_withdraw_view, name="staff_invite_withdraw"),
    path("clinic/settings/", clinic_settings.clinic_settings, name="clinic_settings"),
    path("clinic/operations/", ops.operations, name="operations"),
    path("clinic/operations/resend/", ops.operations_resend, name="operations_resend"),
    path(
        "clinic/notifications/",
        notification_views.notification_log_view,
        name="notification_log",
    ),
    path(
        "clinic/notifications/retry/",
        notification_views.notification_retry,
        name="notification_retry",
    ),
]
