"""The outbox (Notification) and the jobs' heartbeats now belong to the notifications app
(notifications.0001 takes their state; their tables and rows are not touched here)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("therapy", "0008_notification_once"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="Heartbeat"),
            ]
        ),
    ]
