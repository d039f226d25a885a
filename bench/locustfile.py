"""Locust users for `make load` (bench/load.py sets the environment).

70% therapists, 20% patients in the portal, 10% clinic admins. Writes that the server
acknowledged (2xx, or a 302 redirect after a successful POST) are appended to
LOAD_ACK_FILE so the run can check afterwards that each one is in the database.
"""

import os
import random
import re
import threading
import time
import uuid

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "")
THERAPISTS = [u for u in os.environ.get("LOAD_THERAPISTS", "").split(",") if u]
ADMINS = [u for u in os.environ.get("LOAD_ADMINS", "").split(",") if u]
PORTAL_URLS = [u for u in os.environ.get("LOAD_PORTAL_URLS", "").splitlines() if u]
ACK_FILE = os.environ.get("LOAD_ACK_FILE", "")
_ack_lock = threading.Lock()

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PATIENT_RE = re.compile(r'href="/patients/(\d+)/"')
COURSE_RE = re.compile(r'href="/courses/(\d+)/"')
SESSION_RE = re.compile(r'href="/sessions/(\d+)/"')
HOMEWORK_RE = re.compile(r'href="/p/homework/(\d+)/"')
KEY_RE = re.compile(r'name="form_key" value="([^"]+)"')
MEASURE_RE = re.compile(r"/p/questionnaires/thanks/(\d+)/")


def acknowledge(marker: str) -> None:
    if not ACK_FILE:
        return
    with _ack_lock, open(ACK_FILE, "a") as fh:
        fh.write(marker + "\n")


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    return match.group(1) if match else ""


class StaffUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    usernames: list[str] = []

    def on_start(self) -> None:
        self.username = random.choice(self.usernames)  # noqa: S311 - load mix, not security
        for _attempt in range(5):  # the database may be restarting: try again shortly
            page = self.client.get("/accounts/login/", name="login form")
            if page.status_code == 200:
                response = self.client.post(
                    "/accounts/login/",
                    {
                        "csrfmiddlewaretoken": csrf_from(page.text),
                        "login": self.username,
                        "password": PASSWORD,
                    },
                    headers={"Referer": self.host + "/accounts/login/"},
                    name="login",
                )
                if response.status_code == 200 and "/accounts/login/" not in response.url:
                    break
            time.sleep(2)
        self.patient_ids: list[str] = []
        self.course_ids: list[str] = []


class Therapist(StaffUser):
    weight = 7
    usernames = THERAPISTS

    @task(4)
    def home(self) -> None:
        response = self.client.get("/caseload/home/", name="therapist home")
        self.patient_ids = PATIENT_RE.findall(response.text)[:50] or self.patient_ids
        self.course_ids = COURSE_RE.findall(response.text)[:50] or self.course_ids

    @task(3)
    def patient_list(self) -> None:
        page = random.randint(1, 3)  # noqa: S311
        response = self.client.get(f"/patients/?page={page}", name="patient list")
        self.patient_ids = PATIENT_RE.findall(response.text) or self.patient_ids

    @task(4)
    def patient_page(self) -> None:
        if self.patient_ids:
            response = self.client.get(
                f"/patients/{random.choice(self.patient_ids)}/", name="patient page"
            )  # noqa: S311
            self.course_ids = COURSE_RE.findall(response.text) or self.course_ids

    @task(3)
    def course_page(self) -> None:
        if self.course_ids:
            response = self.client.get(
                f"/courses/{random.choice(self.course_ids)}/", name="course page"
            )  # noqa: S311
            sessions = SESSION_RE.findall(response.text)
            if sessions:
                self.client.get(f"/sessions/{random.choice(sessions)}/", name="session page")  # noqa: S311

    @task(1)
    def week(self) -> None:
        self.client.get("/sessions/week/", name="week view")

    @task(1)
    def add_life_event(self) -> None:
        if not self.patient_ids:
            return
        patient_id = random.choice(self.patient_ids)  # noqa: S311
        url = f"/patients/{patient_id}/events/new/"
        form = self.client.get(url, name="life event form")
        key = KEY_RE.search(form.text)
        if form.status_code != 200 or not key:
            return
        marker = f"load {uuid.uuid4().hex}"
        with self.client.post(
            url,
            {
                "csrfmiddlewaretoken": csrf_from(form.text),
                "form_key": key.group(1),
                "occurred_on": "2026-01-15",
                "description": marker,
                "relationship": "",
                "mood_effect": "0",
            },
            headers={"Referer": self.host + url},
            name="life event save",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in (
                302,
                303,
            ) and f"/patients/{patient_id}/" in response.headers.get("Location", ""):
                acknowledge(f"life_event:{marker}")
                response.success()
            elif response.status_code == 503:
                response.failure("503 during database restart")
            else:
                response.failure(f"unexpected {response.status_code}")


class Admin(StaffUser):
    weight = 1
    usernames = ADMINS

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/caseload/clinic/", name="clinic dashboard")

    @task(1)
    def drilldown(self) -> None:
        self.client.get("/caseload/clinic/drilldown/?metric=active", name="dashboard drill-down")

    @task(1)
    def courses(self) -> None:
        self.client.get("/caseload/clinic/courses/?phase=problem_solving", name="caseload table")

    @task(1)
    def outcomes(self) -> None:
        self.client.get("/caseload/clinic/outcomes/", name="outcomes")


class Patient(HttpUser):
    weight = 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        url = random.choice(PORTAL_URLS)  # noqa: S311
        path = "/" + url.split("/", 3)[3]
        # The link's page, then its "Open my page" button (the POST opens the portal).
        landing = self.client.get(path, name="portal link page")
        self.client.post(
            path,
            {"csrfmiddlewaretoken": csrf_from(landing.text)},
            name="portal link exchange",
        )
        self.homework_ids: list[str] = []

    @task(3)
    def home(self) -> None:
        self.client.get("/p/", name="portal home")

    @task(2)
    def homework(self) -> None:
        response = self.client.get("/p/homework/", name="portal homework")
        self.homework_ids = HOMEWORK_RE.findall(response.text)

    @task(1)
    def sessions(self) -> None:
        self.client.get("/p/sessions/", name="portal sessions")

    @task(1)
    def self_report(self) -> None:
        form = self.client.get("/p/questionnaires/phq9/", name="portal questionnaire")
        key = KEY_RE.search(form.text)
        if form.status_code != 200 or not key:
            return
        answers = {f"item_{n}": str(random.choice([0, 1, 1, 2])) for n in range(1, 10)}  # noqa: S311
        answers["item_9"] = "0"
        with self.client.post(
            "/p/questionnaires/phq9/",
            {
                "csrfmiddlewaretoken": csrf_from(form.text),
                "form_key": key.group(1),
                **answers,
            },
            headers={"Referer": self.host + "/p/questionnaires/phq9/"},
            name="portal questionnaire save",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            match = MEASURE_RE.search(response.headers.get("Location", ""))
            if response.status_code in (302, 303) and match:
                acknowledge(f"measure:{match.group(1)}")
                response.success()
            elif response.status_code == 503:
                response.failure("503 during database restart")
            elif response.status_code == 200:
                response.success()  # the form came back (e.g. no active course): nothing written
            else:
                response.failure(f"unexpected {response.status_code}")
