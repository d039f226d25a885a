"""The dashboard's kept figures (``caseload.models``): how they stay right, and how the
dashboard reads them.

- A service that changes what a therapist's figures count calls
  ``patients.caseload_figures.figures_changed`` in its transaction; ``figures_mark`` (the
  listener) empties the therapist's ``valid_until``, or adds an empty row.
- A row worked out records in ``valid_until`` the first moment a figure of it changes with
  time alone (a note passing 48 hours, a PHQ-9 or a last session turning 14 days old, a
  course reaching 14 days, the next week).
- ``figures_refresh`` (the dashboard, before it reads) works out again, from the records,
  every row of the clinic whose ``valid_until`` is empty or past: under the rows' locks, taken
  in therapist order, with the difference each row makes added to the clinic's totals in the
  same transaction. A service that changes a therapist's records while their row is being
  worked out waits for the lock, and its mark then empties the row again: the next read
  counts its change.

What the dashboard pays per request is thus one indexed look for stale rows, the clinic's
totals and one page of rows, whatever the size of the clinic; a row is worked out again for
the therapist whose records changed (six grouped queries over their records), not for the
clinic. ``tests/caseload/test_kept_figures.py`` compares the rows with the plain count.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ipt_clinic.accounts.models import Role, User

from .dashboard_selectors import (
    SORT_KEYS,
    Dashboard,
    TherapistRow,
    Window,
    dashboard_for_clinic,
    phase_counts_of,
)
from .models import COUNT_FIELDS, ClinicFigures, TherapistFigures

_ROW_FIELDS = [
    *COUNT_FIELDS,
    "name",
    "sort_name",
    "deactivated",
    "no_show_rate",
    "rate_rising",
    "rate_falling",
    "risk_oldest_at",
    "valid_until",
    "computed_at",
]


# --- keeping the rows ------------------------------------------------------------------------


def figures_mark(*, clinic_id: int, therapist_ids: Sequence[int]) -> None:
    """The listener of ``patients.caseload_figures``: these therapists' rows are to be worked
    out again (a row is added for a therapist who has none). One statement a therapist, in
    ascending id order (``figures_changed`` sorts them), the order ``figures_refresh`` locks
    rows in, so the two never wait for each other in a circle."""
    for therapist_id in therapist_ids:
        marked = TherapistFigures.objects.filter(
            clinic_id=clinic_id, therapist_id=therapist_id
        ).update(valid_until=None)
        if not marked:
            TherapistFigures.objects.bulk_create(
                [TherapistFigures(clinic_id=clinic_id, therapist_id=therapist_id)],
                ignore_conflicts=True,
            )


def figures_mark_clinic(*, clinic_id: int) -> int:
    """Every row of the clinic to be worked out again on the dashboard's next request: its
    time zone changed, which moves its weeks and its days. Returns the number of rows."""
    return TherapistFigures.objects.filter(clinic_id=clinic_id).update(valid_until=None)


def staff_figures_changed(sender, instance: User, created: bool, update_fields=None, **kwargs):
    """A member of staff saved (``post_save``): a therapist of a clinic gets a row when made;
    a change of name, role or activity is shown on their row. Logins (``last_login``) and
    other fields leave the rows alone."""
    shown = {"first_name", "last_name", "username", "role", "clinic", "is_active"}
    if update_fields is not None and not (set(update_fields) & (shown | {"deactivated_at"})):
        return
    if instance.clinic_id is None:
        return
    if created and instance.role != Role.THERAPIST:
        return
    if created:
        figures_mark(clinic_id=instance.clinic_id, therapist_ids=[instance.pk])
        return
    TherapistFigures.objects.filter(therapist_id=instance.pk).update(valid_until=None)
    if instance.role == Role.THERAPIST:
        figures_mark(clinic_id=instance.clinic_id, therapist_ids=[instance.pk])


def _fill(kept: TherapistFigures, row: TherapistRow, now: datetime) -> None:
    for key in COUNT_FIELDS:
        if key in ("attended_recent", "no_show_recent"):
            continue
        setattr(kept, key, row.counts.get(key, 0))
    kept.attended_recent = row.attended_recent
    kept.no_show_recent = row.no_show_recent
    kept.no_show_rate = row.no_show_rate
    kept.rate_rising = 2 if row.no_show_rate is None else row.no_show_rate
    kept.rate_falling = -1 if row.no_show_rate is None else row.no_show_rate
    kept.name = row.name
    kept.sort_name = row.name.lower()
    kept.deactivated = row.deactivated
    kept.risk_oldest_at = row.risk_oldest_at
    kept.valid_until = row.valid_until
    kept.computed_at = now


def _counted(kept: TherapistFigures) -> dict[str, int]:
    """What the row adds to the clinic's totals now (nothing before it is first worked out)."""
    if kept.computed_at is None:
        return dict.fromkeys(COUNT_FIELDS, 0)
    return {key: getattr(kept, key) for key in COUNT_FIELDS}


def figures_refresh(*, clinic_id: int, tz: ZoneInfo, now: datetime | None = None) -> int:
    """Work out again every row of the clinic that is marked or past its ``valid_until`` and
    keep the clinic's totals; returns how many rows were worked out. One query when none is
    due; otherwise a fixed dozen, whatever the clinic's size (the due therapists' records
    only)."""
    now = now or timezone.now()
    due = TherapistFigures.objects.filter(clinic_id=clinic_id).filter(
        Q(valid_until__isnull=True) | Q(valid_until__lte=now)
    )
    # Most requests find none due: one look at the index, no transaction.
    if not due.exists():
        return 0
    with transaction.atomic():
        stale = list(due.select_for_update().order_by("therapist_id"))
        if not stale:
            return 0
        board = dashboard_for_clinic(
            clinic_id, tz, now, therapist_ids=[kept.therapist_id for kept in stale]
        )
        _keep(clinic_id, stale, board, now)
    return len(stale)


def _keep(clinic_id: int, stale: list[TherapistFigures], board: Dashboard, now) -> None:
    """Write the worked-out rows (deleting those with nothing to show) and add what they
    change to the clinic's totals. Call inside the transaction holding the rows' locks."""
    totals, _ = ClinicFigures.objects.select_for_update().get_or_create(clinic_id=clinic_id)
    worked_out = {row.therapist_id: row for row in board.rows}
    change = dict.fromkeys(COUNT_FIELDS, 0)
    rows_change = 0
    kept_rows, gone = [], []
    for kept in stale:
        before = _counted(kept)
        row = worked_out.get(kept.therapist_id)
        if row is None or not row.listed:
            if kept.computed_at is not None:
                rows_change -= 1
            gone.append(kept.pk)
            after = dict.fromkeys(COUNT_FIELDS, 0)
        else:
            if kept.computed_at is None:
                rows_change += 1
            _fill(kept, row, now)
            kept_rows.append(kept)
            after = _counted(kept)
        for key in COUNT_FIELDS:
            change[key] += after[key] - before[key]
    if kept_rows:
        TherapistFigures.objects.bulk_update(kept_rows, _ROW_FIELDS, batch_size=500)
    if gone:
        TherapistFigures.objects.filter(pk__in=gone).delete()
    oldest = (
        TherapistFigures.objects.filter(clinic_id=clinic_id, risk_oldest_at__isnull=False)
        .order_by("risk_oldest_at")
        .values_list("risk_oldest_at", flat=True)
        .first()
    )
    ClinicFigures.objects.filter(pk=totals.pk).update(
        **{key: F(key) + value for key, value in change.items() if value},
        rows=F("rows") + rows_change,
        risk_oldest_at=oldest,
    )


def figures_rebuild(*, clinic_id: int, tz: ZoneInfo, now: datetime | None = None) -> int:
    """Every row of the clinic worked out again from its records, and its totals summed
    afresh: for a writer that bypassed the services (the demo seed's bulk load, an import),
    or to mend totals. Returns the number of rows."""
    now = now or timezone.now()
    with transaction.atomic():
        totals, _ = ClinicFigures.objects.select_for_update().get_or_create(clinic_id=clinic_id)
        # Every row starts again from nothing counted, so the refresh's differences add up to
        # the totals afresh.
        ClinicFigures.objects.filter(pk=totals.pk).update(
            **dict.fromkeys(COUNT_FIELDS, 0), rows=0, risk_oldest_at=None
        )
        TherapistFigures.objects.filter(clinic_id=clinic_id).update(
            valid_until=None, computed_at=None
        )
        everyone = dashboard_for_clinic(clinic_id, tz, now)
        TherapistFigures.objects.bulk_create(
            [
                TherapistFigures(clinic_id=clinic_id, therapist_id=row.therapist_id)
                for row in everyone.rows
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        return figures_refresh(clinic_id=clinic_id, tz=tz, now=now)


def figures_differences(*, clinic_id: int, tz: ZoneInfo, now: datetime | None = None) -> list[str]:
    """Where the kept rows and totals (once refreshed) differ from the figures worked out
    afresh from the clinic's records: one line each, none when they agree."""
    now = now or timezone.now()
    figures_refresh(clinic_id=clinic_id, tz=tz, now=now)
    fresh = dashboard_for_clinic(clinic_id, tz, now)
    expected = {row.therapist_id: row for row in fresh.rows if row.listed}
    kept = {row.therapist_id: row for row in TherapistFigures.objects.filter(clinic_id=clinic_id)}
    differences = [
        f"therapist {pk}: {'no row' if pk not in kept else 'a row of nothing to show'}"
        for pk in sorted(set(expected) ^ set(kept))
    ]
    for pk in sorted(set(expected) & set(kept)):
        shown, wanted = _as_row(kept[pk]), expected[pk]
        for name in ("counts", "attended_recent", "no_show_recent", "name", "risk_oldest_at"):
            if getattr(shown, name) != getattr(wanted, name):
                differences.append(
                    f"therapist {pk}: {name} {getattr(shown, name)!r}, "
                    f"worked out {getattr(wanted, name)!r}"
                )
    totals = _as_row(ClinicFigures.objects.filter(clinic_id=clinic_id).first() or ClinicFigures())
    listed = [row for row in fresh.rows if row.listed]
    for key in COUNT_FIELDS:
        kept_total = totals.counts.get(key, getattr(totals, key, 0))
        if key in ("attended_recent", "no_show_recent"):
            kept_total = getattr(totals, key)
            worked_out = sum(getattr(row, key) for row in listed)
        else:
            worked_out = sum(row.counts[key] for row in listed)
        if kept_total != worked_out:
            differences.append(f"clinic total {key}: {kept_total}, worked out {worked_out}")
    kept_rows = (ClinicFigures.objects.filter(clinic_id=clinic_id).first() or ClinicFigures()).rows
    if kept_rows != len(listed):
        differences.append(f"clinic rows: {kept_rows}, worked out {len(listed)}")
    return differences


# --- reading them ----------------------------------------------------------------------------


@dataclass
class KeptDashboard:
    """What the dashboard shows: the clinic's totals and one page of therapist rows."""

    window: Window
    totals: TherapistRow
    phase_counts: list[tuple[str, str, int]]
    row_count: int


def _as_row(kept) -> TherapistRow:
    row = TherapistRow(
        therapist_id=getattr(kept, "therapist_id", None),
        name=getattr(kept, "name", "Clinic total"),
        deactivated=getattr(kept, "deactivated", False),
        attended_recent=kept.attended_recent,
        no_show_recent=kept.no_show_recent,
        risk_oldest_at=kept.risk_oldest_at,
    )
    for key in COUNT_FIELDS:
        if key not in ("attended_recent", "no_show_recent"):
            row.counts[key] = getattr(kept, key)
    return row


def kept_dashboard(*, clinic_id: int, tz: ZoneInfo, now: datetime | None = None) -> KeptDashboard:
    """The clinic's totals, once every due row is worked out again (``figures_refresh``)."""
    window = Window.for_clinic(tz, now)
    figures_refresh(clinic_id=clinic_id, tz=tz, now=window.now)
    kept = ClinicFigures.objects.filter(clinic_id=clinic_id).first() or ClinicFigures(
        clinic_id=clinic_id
    )
    totals = _as_row(kept)
    totals.therapist_id = None
    totals.name = "Clinic total"
    return KeptDashboard(
        window=window,
        totals=totals,
        phase_counts=phase_counts_of(totals),
        row_count=kept.rows,
    )


def _order(sort: str, descending: bool) -> list:
    """The table's order for a sort key: the figure, then the name, then the id, all one way
    (each has its index); rows without a rate last either way."""
    if sort not in SORT_KEYS:
        sort = "therapist"
    columns = ["sort_name", "therapist_id"]
    if sort == "no_show_rate":
        columns.insert(0, "rate_falling" if descending else "rate_rising")
    elif sort != "therapist":
        columns.insert(0, sort)
    return [F(name).desc() if descending else F(name).asc() for name in columns]


class TherapistRows:
    """The clinic's therapist rows in the table's order, for ``Paginator``: counted from the
    clinic's kept totals, read a page at a time."""

    def __init__(self, *, clinic_id: int, row_count: int, sort: str, descending: bool):
        self.row_count = row_count
        self.queryset = TherapistFigures.objects.filter(clinic_id=clinic_id).order_by(
            *_order(sort, descending)
        )

    def count(self) -> int:
        return self.row_count

    def __len__(self) -> int:
        return self.row_count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_as_row(kept) for kept in self.queryset[index]]
        return _as_row(self.queryset[index])
