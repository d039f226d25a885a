"""The clinic's quiet hours: no text message is sent between ``quiet_hours_start`` and
``quiet_hours_end`` (clinic time; the window may run past midnight)."""

from datetime import datetime, timedelta

from ipt_clinic.accounts.models import Clinic


def quiet_hours_end(clinic: Clinic, at: datetime) -> datetime | None:
    """When the quiet hours around ``at`` end, or None if ``at`` is outside them."""
    start, end = clinic.quiet_hours_start, clinic.quiet_hours_end
    if start == end:
        return None
    tz = clinic.tz
    local = at.astimezone(tz)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= moment < end
        end_day = local.date()
    else:
        quiet = moment >= start or moment < end
        end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(end_day, end, tzinfo=tz)


def after_quiet_hours(clinic: Clinic, at: datetime) -> datetime:
    """``at``, or the end of the quiet hours when ``at`` falls inside them."""
    return quiet_hours_end(clinic, at) or at
