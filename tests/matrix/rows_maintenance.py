"""Maintenance IPT's pages: starting it from a completed course, booking a booster."""

from datetime import timedelta

from django.utils import timezone

from phases.maintenance import maintenance_course_start
from tests.matrix import Row


def _completed(world) -> dict:
    """A completed course of another patient of the owner's, with its relapse plan: one per
    request, as each allowed POST starts maintenance from it."""
    from tests.phases.maintenance_cast import completed_course

    return {"course_id": completed_course(world.owner).pk}


def _maintenance(world) -> dict:
    from tests.phases.maintenance_cast import completed_course

    course = maintenance_course_start(
        course=completed_course(world.owner),
        by=world.owner,
        start_date=timezone.localdate(),
        planned_sessions=12,
    )
    return {"course_id": course.pk}


def _booster(world) -> dict:
    day = timezone.localdate() + timedelta(days=9)
    return {
        "sign": "0",
        "date": day.isoformat(),
        "time": "08:10",
        "duration_minutes": "30",
        "modality": "phone",
    }


ROWS = {
    "phases:maintenance_start": [
        Row(kwargs=_completed),
        Row(
            kwargs=_completed,
            method="post",
            data=lambda w: {
                "start_date": timezone.localdate().isoformat(),
                "planned_sessions": "12",
                "frequency": "monthly",
                "session_minutes": "50",
            },
        ),
    ],
    "therapy:booster_book": [
        Row(kwargs=_maintenance),
        Row(kwargs=_maintenance, method="post", data=_booster),
    ],
}
