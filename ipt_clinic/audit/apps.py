import hashlib

from django.apps import AppConfig
from django.conf import settings
from django.core.management.base import CommandError
from django.db.backends.signals import connection_created
from django.db.models.signals import pre_migrate


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no SHA-256 of its own: the audit chain's trigger (migration 0003) calls this
    one, registered on each connection through sqlite3's public ``create_function``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_sha256", 1, _sha256_hex, deterministic=True)


def _migrate_as_the_owner(sender, **kwargs) -> None:
    """With two roles configured, the app's role may not change the schema: say so at once
    rather than fail half-way through a migration. The owner migrates as the process's only
    database, so that a data migration's queries, whichever connection they take, are its."""
    if "owner" in settings.DATABASES:
        raise CommandError(
            "MIGRATE_DATABASE_URL is set: migrations run as the owner of the schema, as the "
            "process's only database. Run `scripts/serve migrate`, which migrates with "
            "DATABASE_URL set to MIGRATE_DATABASE_URL's value (and MIGRATE_DATABASE_URL unset), "
            "then sets up the app's role with `manage.py db_roles`."
        )


class AuditConfig(AppConfig):
    name = "ipt_clinic.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        connection_created.connect(_register_sqlite_functions, dispatch_uid="audit_sha256")
        pre_migrate.connect(_migrate_as_the_owner, sender=self, dispatch_uid="audit_owner")
