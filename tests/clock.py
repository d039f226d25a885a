"""The clock the tests run at.

Tests never depend on the real clock's day, week, hour or daylight-saving state: a test whose
answer depends on them freezes the clock itself (``time_machine.travel(..., tick=False)``, or
the ``time_machine`` fixture). To find the tests that forget, the whole suite (or a part of it)
can be run as if the clock read an awkward instant, each test starting there with the clock
ticking on:

    .venv/bin/pytest tests/sessions --clock 2027-03-28T00:59Z   # before the spring change
    .venv/bin/pytest tests/caseload --clock monday-0030          # a named instant below

The instants (``AWKWARD_INSTANTS``) are those the clinic's calendar makes awkward in
Europe/London. Processes the tests start (Celery workers, servers) keep the real clock, so
tests that compare times with them are not meant to run under ``--clock``.
"""

from datetime import UTC, datetime

import pytest
import time_machine

# Each instant in UTC, named for what makes it awkward in Europe/London. They lie ahead of the
# time this was written (December 2026): the suite will run then, and a test that hard-codes
# "a date in the past" must still pass.
AWKWARD_INSTANTS: dict[str, datetime] = {
    # Monday 00:30: the week began half an hour ago (winter: clinic time is UTC).
    "monday-0030": datetime(2026, 12, 14, 0, 30, tzinfo=UTC),
    # Monday 00:30 in summer: clinic time is BST, the UTC date is still Sunday.
    "monday-0030-bst": datetime(2027, 6, 6, 23, 30, tzinfo=UTC),
    # The last Sunday of March: at 01:00 UTC the clocks go from 01:00 GMT to 02:00 BST.
    "spring-0059": datetime(2027, 3, 28, 0, 59, tzinfo=UTC),
    "spring-0100": datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    "spring-0200": datetime(2027, 3, 28, 2, 0, tzinfo=UTC),
    # The last Sunday of October: at 01:00 UTC the clocks go from 02:00 BST back to 01:00 GMT.
    "autumn-0059": datetime(2027, 10, 31, 0, 59, tzinfo=UTC),
    "autumn-0100": datetime(2027, 10, 31, 1, 0, tzinfo=UTC),
    "autumn-0200": datetime(2027, 10, 31, 2, 0, tzinfo=UTC),
    # New Year's Eve, a minute before midnight (clinic time is UTC).
    "new-year-2359": datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
}


def instant(value: str) -> datetime:
    """A named instant or an ISO 8601 time with its offset (``Z`` for UTC)."""
    if value in AWKWARD_INSTANTS:
        return AWKWARD_INSTANTS[value]
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--clock {value}: give the offset, e.g. {value}Z")
    return moment.astimezone(UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="INSTANT",
        help="run each test as if the clock read INSTANT (ISO 8601 with offset, or one of: "
        + ", ".join(AWKWARD_INSTANTS)
        + "), ticking on from there",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    value = config.getoption("--clock")
    return f"clock: each test starts at {instant(value).isoformat()}" if value else None


class _RandomOrderSeed:
    """Says at the end of every run, -q included, which order it ran in."""

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, config: pytest.Config) -> None:
        if config.pluginmanager.has_plugin("randomly"):
            seed = config.getoption("randomly_seed")
            terminalreporter.write_line(
                f"random order: repeat it with -p randomly --randomly-seed={seed}"
            )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_RandomOrderSeed(), "ipt-random-order-seed")


@pytest.fixture(autouse=True)
def _clock_option(request: pytest.FixtureRequest):
    value = request.config.getoption("--clock")
    if not value:
        yield
        return
    with time_machine.travel(instant(value), tick=True):
        yield
