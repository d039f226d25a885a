"""The outbox moves from the sessions app (label "therapy") to this one without touching a row:
the state moves here (and leaves therapy in its 0009), the tables stay where they are, and
0002 renames them to this app's names."""

import django.db.models.deletion
from django.db import migrations, models

import notifications.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("patients", "0002_edit_versions"),
        ("therapy", "0008_notification_once"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=60, unique=True)),
                ("last_run_at", models.DateTimeField()),
                ("detail", models.JSONField(blank=True, default=dict)),
            ],
            options={"db_table": "therapy_heartbeat"},
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=notifications.models.notification_kinds, max_length=20)),
                ("channel", models.CharField(choices=[("email", "Email"), ("sms", "SMS")], max_length=8)),
                ("recipient", models.CharField(max_length=254)),
                ("about_type", models.CharField(max_length=30)),
                ("about_id", models.BigIntegerField()),
                ("due_at", models.DateTimeField()),
                ("status", models.CharField(choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"), ("cancelled", "Cancelled")], default="pending", max_length=10)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_error", models.TextField(blank=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("attempt_started_at", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("payload", models.JSONField(blank=True, default=dict)),
                ("dedupe_key", models.CharField(max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("clinic", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to="accounts.clinic")),
                ("patient", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="notifications", to="patients.patient")),
            ],
            options={
                "db_table": "therapy_notification",
                "ordering": ["due_at", "id"],
                "indexes": [
                    models.Index(condition=models.Q(("status__in", ["pending", "sending"])), fields=["status", "due_at"], name="notification_due_idx"),
                    models.Index(fields=["clinic", "status", "due_at"], name="therapy_not_clinic__2f0df9_idx"),
                    models.Index(fields=["clinic", "about_type", "about_id"], name="therapy_not_clinic__504504_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("dedupe_key",), name="notification_dedupe_key_unique"),
                ],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
    ]
