"""The moved tables take this app's names (a rename: every row, key and sequence stays)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("therapy", "0009_notifications_moved"),
    ]

    operations = [
        migrations.AlterModelTable(name="heartbeat", table=None),
        migrations.AlterModelTable(name="notification", table=None),
        migrations.RenameIndex(
            model_name="notification",
            new_name="notification_clinic_due_idx",
            old_name="therapy_not_clinic__2f0df9_idx",
        ),
        migrations.RenameIndex(
            model_name="notification",
            new_name="notification_clinic_about_idx",
            old_name="therapy_not_clinic__504504_idx",
        ),
    ]
