"""What else ends when a course or a patient's care ends.

patients and phases sit below sessions and never import it. sessions registers its closer
here at start-up (``TherapyConfig.ready``) so that completing or dropping out of a course,
discharging or archiving a patient cancels the future sessions and withdraws their pending
notices in the transaction that records the ending.
"""

from collections.abc import Callable

_closers: list[Callable[..., object]] = []


def register_closer(close: Callable[..., object]) -> None:
    """``close(*, patient_id, clinic_id, course_ids, by, request, ending)`` is called inside
    the ending's transaction. Registering the same function twice keeps one."""
    if close not in _closers:
        _closers.append(close)


def close_loop(
    *, patient_id: int, clinic_id: int, course_ids: list[int], by, request, ending: str
) -> None:
    """Call inside the transaction that ends the course(s) or the patient's care."""
    for close in _closers:
        close(
            patient_id=patient_id,
            clinic_id=clinic_id,
            course_ids=course_ids,
            by=by,
            request=request,
            ending=ending,
        )
