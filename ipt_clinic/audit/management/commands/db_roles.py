"""``manage.py db_roles``: as the owner of the schema, create or update the app's own role
(``ipt_clinic.audit.roles``). Run after every migration (``scripts/serve migrate`` does)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ipt_clinic.audit.roles import RoleError, app_role_configure


class Command(BaseCommand):
    help = (
        "Connected as MIGRATE_DATABASE_URL's role (the owner), create or update the role of "
        "DATABASE_URL (the app's) with the rights the app needs and no more: SELECT and INSERT "
        "only on the audit trail. Idempotent."
    )

    def handle(self, *args, **options):
        if "owner" not in settings.DATABASES:
            raise CommandError(
                "Set MIGRATE_DATABASE_URL to the owner's URL (the role that migrates) and "
                "DATABASE_URL to the app's: db_roles connects as the first to set up the second."
            )
        app = settings.DATABASES["default"]
        try:
            report = app_role_configure(
                owner="owner", role=app["USER"], password=app.get("PASSWORD") or None
            )
        except RoleError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Created" if report.created else "Updated"
        self.stdout.write(
            f"{verb} the app's role {report.role}: it owns nothing, writes {report.tables} "
            "tables, and may only read and add to the audit trail."
        )
