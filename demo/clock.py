"""The clock a demo story is told at.

The services stamp what they do with ``django.utils.timezone.now()`` and refuse what could not
have happened at that moment: a session booked in the past, attendance recorded before the
session began, homework due yesterday. A story of twelve weeks of treatment is therefore told
through them at the moments it happened, one after the other: ``StoryClock`` stands in for
``timezone.now`` (the one function every service, audit event and ``auto_now`` field reads
the time from) while the story runs, and is moved forward step by step, never past the real
now and never back. Nothing else is patched; when the story ends the real clock returns.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.utils import timezone


class StoryClock:
    def __init__(self, *, start: datetime, real_now: datetime):
        if start > real_now:
            raise ValueError("A story cannot start after the real now.")
        self.real_now = real_now
        self.current = start

    def now(self) -> datetime:
        return self.current

    def move_to(self, moment: datetime) -> None:
        if moment < self.current:
            raise ValueError(f"A story's clock only moves forward ({self.current} -> {moment}).")
        if moment > self.real_now:
            raise ValueError(f"{moment} has not happened yet (now is {self.real_now}).")
        self.current = moment

    @contextmanager
    def running(self) -> Iterator["StoryClock"]:
        """Within the block, ``timezone.now()`` answers this clock's time."""
        with mock.patch.object(timezone, "now", self.now):
            yield self
