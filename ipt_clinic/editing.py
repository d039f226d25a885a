"""Optimistic locking: how every editable clinical record refuses a stale save.

A form opened on a record carries the record's ``version`` in a hidden field
(``VersionedForm``). The service writes the change with ``save_versioned``: one UPDATE that
matches the row only while it is still at that version and bumps it, so of two saves opened
at the same version exactly one changes a row. The other is refused with ``StaleEditError``,
which carries the row as stored now; the view calls ``form.show_conflict(error.current)`` and
renders ``partials/stale_edit.html``: the stored values beside the ones typed, the typed ones
still in the form, and the form moved on to the stored version so that saving again goes on
top of it. Nothing is lost and nothing is overwritten unseen.

Every other writer of a versioned row (a removal, a change of status or phase) bumps the
version through ``save_versioned(..., expected_version=None)``, so a form opened before that
change is refused too. Figures kept beside a row by other layers (a course's attendance and
scores) are not edited on any form and do not bump it.

This module is the lowest layer: it imports no app.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.forms.utils import pretty_name
from django.utils import formats, timezone

STALE_MESSAGE = (
    "This was changed by someone else since you opened it. Nothing was saved: compare "
    "both versions below."
)
MISSING_VERSION = (
    "This form does not say which version of the record it was opened at, so it cannot be "
    "saved safely. Open the record again."
)


class StaleEditError(ValidationError):
    """The record changed since the form was opened; ``current`` is the row as stored now."""

    def __init__(self, current: models.Model):
        self.current = current
        super().__init__(STALE_MESSAGE, code="stale")


def save_versioned(
    row: models.Model, *, expected_version: int | None, fields: Iterable[str] = ()
) -> None:
    """Write ``fields`` of ``row`` (their values in memory) and bump its version, in one UPDATE.

    With ``expected_version`` the UPDATE matches the row only while it is still at that
    version; when it matched nothing, someone saved in between: ``StaleEditError`` is raised
    with the row as stored now, and nothing is written. ``expected_version=None``: no check,
    for internal callers only (a service changing a status or a phase, a removal, the demo
    seed); the version is still bumped so that forms opened before are refused.

    Call inside the service's transaction. ``row.version`` (and ``updated_at``, if the model
    has one) hold the new values afterwards.
    """
    model = type(row)
    values = {name: getattr(row, name) for name in fields}
    if hasattr(model, "updated_at"):
        row.updated_at = values["updated_at"] = timezone.now()
    matching = model.objects.filter(pk=row.pk)
    if expected_version is not None:
        matching = matching.filter(version=expected_version)
    if matching.update(**values, version=F("version") + 1) != 1:
        raise StaleEditError(model.objects.get(pk=row.pk))
    if expected_version is not None:
        row.version = expected_version + 1
    else:
        row.refresh_from_db(fields=["version"])


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """One field of a refused save: its label, the stored value and the typed one, as text."""

    label: str
    theirs: str
    yours: str

    @property
    def differs(self) -> bool:
        return self.theirs != self.yours


class VersionedForm:
    """Mixin for a form that edits a stored record (put it before the form class).

    The form carries the record's version in a required hidden ``version`` field: ``version=``
    when given (a plain form, or 0 for a record not written yet), otherwise the version of
    the ModelForm's saved instance. A form making a new record gets no such field. The view
    passes ``form.expected_version`` and ``form.edited_values()`` to the service, and on
    ``StaleEditError`` calls ``form.show_conflict(error.current)``.
    """

    def __init__(self, *args, version: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if version is None and instance is not None and instance.pk is not None:
            version = instance.version
        self.conflict: list[ConflictRow] = []
        if version is not None:
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput,
                min_value=0,
                initial=version,
                error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION},
            )

    def clean(self):
        cleaned = super().clean()
        # A hidden field's error would not be shown next to anything: say it on the form.
        if "version" in self.fields and self.has_error("version"):
            self.add_error(None, MISSING_VERSION)
        return cleaned

    @property
    def expected_version(self) -> int:
        return self.cleaned_data["version"]

    def edited_values(self) -> dict:
        """What was typed, for the service: the cleaned fields without the version."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}

    def stored_values(self, current: models.Model) -> dict:
        """The stored row's value of each field of the form. A form whose fields are not the
        model's (a date and a time for one moment) overrides this."""
        values = {}
        for name in self.fields:
            value = getattr(current, name, None)
            if isinstance(value, models.Manager):  # many-to-many
                value = list(value.all())
            values[name] = value
        return values

    def show_conflict(self, current: models.Model) -> None:
        """After ``StaleEditError``: list the stored values beside the typed ones, field by
        field, keep what was typed in the form, and move the form on to the stored version,
        so that saving again puts the typed values on top of what is stored now."""
        stored = self.stored_values(current)
        typed = self.cleaned_data
        self.conflict = [
            ConflictRow(
                label=str(field.label or pretty_name(name)),
                theirs=display_value(field, stored.get(name)),
                yours=display_value(field, typed.get(name)),
            )
            for name, field in self.fields.items()
            if name != "version" and not field.widget.is_hidden
        ]
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(current.version)


def display_value(field: forms.Field, value) -> str:
    """A field's value as a reader of the form would recognise it (choices by their label)."""
    if isinstance(field, forms.NullBooleanField):
        return {True: "Yes", False: "No"}.get(value, "Unknown")
    if isinstance(field, forms.BooleanField):
        return "Yes" if value else "No"
    if value is None or value == "":
        return ""
    if isinstance(value, list | tuple | set | models.QuerySet):
        return ", ".join(display_value(field, each) for each in value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        labels = {}
        for key, label in field.choices:
            if isinstance(label, list | tuple):  # a group of choices
                labels.update({str(k): v for k, v in label})
            else:
                labels[str(key)] = label
        return str(labels.get(str(value), value))
    if isinstance(value, date):
        return formats.date_format(value, "j M Y")
    if isinstance(value, time):
        return formats.time_format(value, "H:i")
    return str(value)
