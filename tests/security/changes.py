"""What a request changed in the database, for the tests that check a refused or tampered
request changed nothing it should not: every row of the project's own tables, before and
after. The trail of what happened (audit events), sessions and throttle counters are left out:
a refused request may rightly add to them."""

from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

LEFT_OUT = {"audit.auditevent", "accounts.staffsession", "accounts.throttlewindow"}


def _project_models() -> list[type[models.Model]]:
    root = Path(settings.BASE_DIR)
    return [
        model
        for config in apps.get_app_configs()
        if root in Path(config.path).parents and "site-packages" not in config.path
        for model in config.get_models()
        if model._meta.label_lower not in LEFT_OUT
    ]


def snapshot() -> dict[str, dict]:
    """Every row of the project's tables: ``{model label: {pk: {column: value}}}``."""
    return {
        model._meta.label_lower: {
            row["pk"]: row
            for row in model._base_manager.order_by("pk").values("pk", *_columns(model))
        }
        for model in _project_models()
    }


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


@dataclass
class Changes:
    created: list[tuple[str, dict]] = field(default_factory=list)
    changed: list[tuple[str, dict, dict]] = field(default_factory=list)
    deleted: list[tuple[str, dict]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.deleted)

    def written(self) -> list[tuple[str, dict]]:
        """The rows as they are now, of those made or changed."""
        return self.created + [(label, after) for label, _before, after in self.changed]


def changes(before: dict, after: dict) -> Changes:
    found = Changes()
    for label, rows in after.items():
        old = before.get(label, {})
        for pk, row in rows.items():
            if pk not in old:
                found.created.append((label, row))
            elif old[pk] != row:
                found.changed.append((label, old[pk], row))
        found.deleted += [(label, row) for pk, row in old.items() if pk not in rows]
    return found


def references(label: str, row: dict) -> set[tuple[str, object]]:
    """The records ``row`` points at: ``{(model label, pk)}``."""
    model = apps.get_model(label)
    return {
        (f.related_model._meta.label_lower, row[f.attname])
        for f in model._meta.concrete_fields
        if f.is_relation and row.get(f.attname) is not None
    }
