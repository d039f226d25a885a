"""The key pages of the benchmark and how to time one of them in-process.

Each page is named by its URL name; a page whose URL name (or the records it needs) does not
exist yet is reported as "not available" rather than failing the run. Requests go through
Django's test ``Client`` (the whole middleware stack, templates included), logged in the way
a real staff member is (password and second factor verified), or through the portal link.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

HOST = "localhost"


class NotAvailable(Exception):
    """The page (or a record it needs) is not there: reported, not fatal."""


@dataclass
class Page:
    key: str
    label: str
    url_name: str
    user: str  # "therapist", "note_therapist", "admin", "small_admin", "portal"
    target_ms: float
    target_ratio: float = 1.5
    method: str = "get"
    kwargs: Callable[[Cast], dict] = lambda cast: {}
    # For POSTs: fill the form found on this page (GET first, not timed) and change it.
    form_url_name: str = ""
    form_kwargs: Callable[[Cast], dict] | None = None
    fill: Callable[[dict, int, dict], dict] | None = None
    ok_statuses: tuple[int, ...] = (200,)


@dataclass
class Cast:
    """The seeded records the pages are opened on: the same at every scale."""

    therapist: object  # north.anna: the patient, course and session pages are hers
    note_therapist: object  # north.ben: owns the unsigned note that is saved repeatedly
    admin: object  # north.admin: about 5,000 patients at --scale 100
    small_admin: object | None  # lake.admin: about 50 patients at every scale
    patient: object
    course: object
    session: object
    note_session: object | None
    # The score entry POST adds a questionnaire at every request: it goes to another
    # patient's session, so the session and course pages measured do not grow during the run.
    score_session: object
    portal_patient: object
    extra: dict = field(default_factory=dict)


def find_cast() -> Cast:
    from ipt_clinic.accounts.models import User
    from patients.models import Patient
    from sessions.models import SessionStatus, TherapySession

    names = ["north.anna", "north.ben", "north.admin", "lake.admin"]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    patient = Patient.objects.get(clinic__slug="demo-northgate", record_number="NG-0002")
    course = patient.courses.get(status="active")
    session = (
        TherapySession.objects.filter(course=course, status=SessionStatus.ATTENDED)
        .order_by("-scheduled_start")
        .first()
    )
    # The hand-written story with an old unsigned note (NG-0007, north.ben's patient).
    note_session = (
        TherapySession.objects.filter(
            course__patient__record_number="NG-0007",
            clinic__slug="demo-northgate",
            note__signed_at__isnull=True,
        )
        .order_by("scheduled_start")
        .first()
    )
    score_session = (
        TherapySession.objects.filter(
            course__patient__record_number="NG-0003",
            course__status="active",
            clinic__slug="demo-northgate",
            status=SessionStatus.ATTENDED,
        )
        .order_by("-scheduled_start")
        .first()
    )
    portal_patient = Patient.objects.get(clinic__slug="demo-northgate", record_number="NG-0001")
    add_bench_worksheets(course)
    return Cast(
        therapist=users["north.anna"],
        note_therapist=users["north.ben"],
        admin=users["north.admin"],
        small_admin=users.get("lake.admin"),
        patient=patient,
        course=course,
        session=session,
        note_session=note_session,
        score_session=score_session,
        portal_patient=portal_patient,
    )


BENCH_WORKSHEETS = 20


def add_bench_worksheets(course) -> int:
    """Bring the measured course up to ``BENCH_WORKSHEETS`` worksheets (the course page lists
    them all in its worksheets panel), spread over its held sessions, of each kind, a few with
    their homework. Written as rows, not through ``sessions.worksheets``: the seeded sessions'
    notes are signed, which locks their worksheets. Returns how many were added."""
    from sessions.models import Assignment, SessionStatus, TherapySession, Worksheet

    have = Worksheet.objects.filter(course=course, removed_at__isnull=True).count()
    sessions = list(
        TherapySession.objects.filter(course=course, status=SessionStatus.ATTENDED).order_by(
            "scheduled_start"
        )
    )
    area = course.problem_areas.filter(removed_at__isnull=True).first()
    if have >= BENCH_WORKSHEETS or not sessions or area is None:
        return 0
    homework = list(
        Assignment.objects.filter(course=course, worksheet__isnull=True).order_by("pk")[:5]
    )
    added = []
    for number in range(have, BENCH_WORKSHEETS):
        kind = ("communication_analysis", "decision_analysis", "role_play")[number % 3]
        content = {
            "communication_analysis": {
                "incident": f"Bench exchange {number}: he came home late without calling.",
                "patient_said": "You never think of anyone else.",
                "other_said": "Here we go again.",
                "will_try": "Say that she was worried.",
            },
            "decision_analysis": {
                "decision": f"Bench decision {number}: whether to ask for counselling.",
                "options": [
                    {"option": "Ask", "pros": "A way forward", "cons": "He may refuse"},
                    {"option": "Wait", "pros": "No row now", "cons": "Nothing changes"},
                ],
                "choice": "Ask",
            },
            "role_play": {
                "scene": f"Bench scene {number}: asking for a text when he is late.",
                "roles": "She played herself; the therapist played him.",
                "follow_on": "Ask him once this week.",
            },
        }[kind]
        added.append(
            Worksheet(
                clinic_id=course.clinic_id,
                course=course,
                session=sessions[number % len(sessions)],
                kind=kind,
                problem_area=area,
                relationship_id=area.other_party_id,
                assignment=homework.pop() if kind == "role_play" and homework else None,
                created_by_id=course.therapist_id,
                **content,
            )
        )
    Worksheet.objects.bulk_create(added)
    return len(added)


def staff_client(user) -> Client:
    """A client logged in as ``user`` with the second factor verified (as tests/conftest.py)."""
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT

    client = Client(SERVER_NAME=HOST)
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = timezone.now().isoformat()
    session[SESSION_LOGIN_AT] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    return client


def portal_client(patient) -> Client:
    """A client that has opened a fresh portal link of ``patient`` (made for the bench)."""
    from patients.models import PortalLink

    token = secrets.token_urlsafe(32)
    PortalLink.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=patient.created_at
    )
    PortalLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_by=patient.primary_therapist,
    )
    client = Client(SERVER_NAME=HOST)
    try:
        url = reverse("portal:exchange", kwargs={"token": token})
    except NoReverseMatch as exc:
        raise NotAvailable("portal:exchange is not there") from exc
    client.get(url)  # the link's page; its button's POST opens the portal
    response = client.post(url, follow=True)
    if response.status_code != 200:
        raise NotAvailable(f"the portal link answered {response.status_code}")
    return client


class _FormParser(HTMLParser):
    """Collect the named fields of every POST form on a page, as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: dict = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "radios": {}}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        fields = self._form["fields"]
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind == "radio":
                self._form["radios"].setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind == "checkbox":
                if "checked" in a:
                    fields.setdefault(name, []).append(a.get("value", "on"))
            else:
                fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self._select_first[name] = None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first.get(self._select) is None:
                self._select_first[self._select] = value
            if "selected" in a:
                fields[self._select] = value

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if self._form is not None and self._select not in self._form["fields"]:
                self._form["fields"][self._select] = self._select_first.get(self._select) or ""
            self._select = None


def post_form(html: str, action_path: str) -> tuple[dict, dict]:
    """(fields, radio choices) of the POST form whose action is ``action_path`` (or the only
    POST form whose action is empty, i.e. the page itself)."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form["action"].split("?")[0] == action_path:
            return form["fields"], form["radios"]
    own = [f for f in parser.forms if not f["action"]]
    if own:
        return own[0]["fields"], own[0]["radios"]
    raise NotAvailable(f"no form posting to {action_path}")


def _reverse(name: str, kwargs: dict) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch as exc:
        raise NotAvailable(f"{name} is not in the URLconf (or takes other arguments)") from exc


@dataclass
class Timing:
    p50_ms: float
    p95_ms: float
    mean_ms: float
    queries: int
    requests: int
    status: int
    sql_ms: float = 0.0  # time in SQL of the counted request (the rest is Python)
    slowest: list = field(default_factory=list)  # the three slowest queries of the counted one
    samples: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "mean_ms": round(self.mean_ms, 2),
            "queries": self.queries,
            "requests": self.requests,
            "status": self.status,
            "sql_ms_of_counted_request": round(self.sql_ms, 1),
            "slowest_queries": self.slowest,
        }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_page(page: Page, client: Client, cast: Cast, requests: int, warmup: int = 3) -> Timing:
    """Time ``requests`` requests of one page (after ``warmup`` untimed ones) and count the SQL
    queries of one more. For a POST the form is fetched first, outside the timing and count."""
    url = _reverse(page.url_name, page.kwargs(cast))

    def prepare(counter: int) -> Callable[[], object]:
        if page.method != "post":
            return lambda: client.get(url)
        form_url = _reverse(page.form_url_name, (page.form_kwargs or page.kwargs)(cast))
        shown = client.get(form_url)
        if shown.status_code != 200:
            raise NotAvailable(f"{page.form_url_name} answered {shown.status_code}")
        fields, radios = post_form(shown.content.decode(), url)
        data = page.fill(fields, counter, radios) if page.fill else fields
        return lambda: client.post(url, data)

    def check(response) -> int:
        if response.status_code not in page.ok_statuses:
            raise NotAvailable(f"{url} answered {response.status_code}")
        return response.status_code

    counter = 0
    for _ in range(warmup):
        counter += 1
        check(prepare(counter)())
    counter += 1
    request = prepare(counter)
    with CaptureQueriesContext(connection) as captured:
        status = check(request())
    queries = len(captured.captured_queries)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    slowest = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    samples = []
    for _ in range(requests):
        counter += 1
        request = prepare(counter)
        started = time.perf_counter()
        response = request()
        samples.append((time.perf_counter() - started) * 1000)
        status = check(response)
    return Timing(
        p50_ms=statistics.median(samples),
        p95_ms=percentile(samples, 0.95),
        mean_ms=statistics.fmean(samples),
        queries=queries,
        requests=requests,
        status=status,
        sql_ms=sql_ms,
        slowest=[{"ms": round(float(q["time"]) * 1000, 2), "sql": q["sql"][:600]} for q in slowest],
        samples=samples,
    )


def merge(first: Timing, later: Timing) -> Timing:
    """One page's timings over several rounds: the samples pooled, the first round's count."""
    samples = first.samples + later.samples
    return Timing(
        p50_ms=statistics.median(samples),
        p95_ms=percentile(samples, 0.95),
        mean_ms=statistics.fmean(samples),
        queries=first.queries,
        requests=len(samples),
        status=later.status,
        sql_ms=first.sql_ms,
        slowest=first.slowest,
        samples=samples,
    )


def _note_fill(fields: dict, counter: int, radios: dict) -> dict:
    fields = dict(fields)
    fields["narrative"] = f"Bench edit {counter}: talked through the week's contacts."
    return fields


def _measure_fill(fields: dict, counter: int, radios: dict) -> dict:
    fields = dict(fields)
    for name, values in radios.items():
        fields[name] = "1" if "1" in values and not name.endswith("9") else values[0]
    return fields


PAGES = [
    Page("therapist_home", "Therapist home", "caseload:therapist_home", "therapist", 50),
    Page("patient_list", "Patient list", "patients:list", "therapist", 50),
    Page("patient_page", "Patient page", "patients:detail", "therapist", 25,
         kwargs=lambda c: {"patient_id": c.patient.pk}),
    Page("course_page", "Course page (chart, 20 worksheets)", "phases:course", "therapist", 50,
         kwargs=lambda c: {"course_id": c.course.pk}),
    Page("session_page", "Session page", "therapy:session", "therapist", 25,
         kwargs=lambda c: {"pk": c.session.pk}),
    Page("note_get", "Session note GET", "therapy:note", "note_therapist", 25,
         kwargs=lambda c: {"pk": _need(c.note_session).pk}),
    Page("note_post", "Session note POST (save)", "therapy:note", "note_therapist", 50,
         method="post", form_url_name="therapy:note",
         kwargs=lambda c: {"pk": _need(c.note_session).pk}, fill=_note_fill, ok_statuses=(302,)),
    Page("score_entry", "Score entry POST (PHQ-9)", "therapy:measure_new", "therapist", 25,
         method="post", form_url_name="therapy:measure_new",
         kwargs=lambda c: {"pk": _need(c.score_session).pk, "instrument": "phq9"},
         fill=_measure_fill,
         ok_statuses=(302,)),
    Page("dashboard", "Clinic dashboard", "caseload:dashboard", "admin", 150, target_ratio=3),
    Page("portal_home", "Portal home", "portal:home", "portal", 25),
    Page("portal_homework", "Portal homework", "portal:homework", "portal", 25),
    Page("portal_sessions", "Portal sessions", "portal:sessions", "portal", 25),
    Page("portal_plan", "Portal relapse plan", "portal:plan", "portal", 25),
]  # fmt: skip
PAGES_BY_KEY = {page.key: page for page in PAGES}


def _need(record):
    if record is None:
        raise NotAvailable("the seeded record it needs is missing")
    return record
