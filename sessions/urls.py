from django.urls import path

from . import notification_views

app_name = "therapy"

urlpatterns = [
    path(
        "notifications/",
        notification_views.notification_log_view,
        name="notification_log",
    ),
    path(
        "notifications/retry/",
        notification_views.notification_retry,
        name="notification_retry",
    ),
]
