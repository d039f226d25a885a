"""Autosave never says "saved" when it was not: a failing server shows "Not saved", with
retries until it answers, and a note signed meanwhile stops the retries and says so."""

import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Route, expect

from sessions import services
from sessions.models import SessionNote

from .conftest import checked
from .helpers import log_in
from .note_scene import note_to_write

pytestmark = pytest.mark.django_db(transaction=True)

RETRYING = "Not saved — keep this page open; retrying"


def _wait_until(page: Page, condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        page.wait_for_timeout(100)  # lets the page (and its routes) run meanwhile


def test_it_says_not_saved_and_retries_while_the_server_answers_503(page: Page):
    alice, device, note = note_to_write()
    log_in(page, "alice", device)
    page.goto(reverse("therapy:note", args=[note.session_id]))
    checked(page)
    failing = {"on": True, "answered": 0}

    def autosave(route: Route) -> None:
        if failing["on"]:
            failing["answered"] += 1
            route.fulfill(status=503, body="Service unavailable", headers={"Retry-After": "5"})
        else:
            route.continue_()

    page.route("**/note/autosave/", autosave)
    page.get_by_label("Symptoms reviewed").fill("Sleeping four hours a night since the move.")

    status = page.locator("#autosave-status")
    expect(status).to_have_text(RETRYING, timeout=10_000)
    expect(status).to_have_attribute("aria-live", "polite")
    checked(page)
    _wait_until(page, lambda: failing["answered"] >= 2)  # it tried again by itself
    expect(status).to_have_text(RETRYING)
    assert SessionNote.objects.get(pk=note.pk).version == 1

    failing["on"] = False  # the server is back
    expect(status).to_contain_text("Draft saved at", timeout=15_000)
    stored = SessionNote.objects.get(pk=note.pk)
    assert stored.symptoms_reviewed == "Sleeping four hours a night since the move."


def test_it_stops_retrying_when_the_note_was_signed_meanwhile(page: Page):
    alice, device, note = note_to_write()
    log_in(page, "alice", device)
    page.goto(reverse("therapy:note", args=[note.session_id]))
    checked(page)
    note = services.note_save(note=note, by=alice, data={"risk_level": "none"}, expected_version=1)
    services.note_sign(note=note, by=alice)  # in another tab
    sent = []
    page.on(
        "request", lambda request: sent.append(request.url) if "autosave" in request.url else None
    )

    page.get_by_label("Symptoms reviewed").fill("Typed while it was being signed.")

    status = page.locator("#autosave-status")
    expect(status).to_contain_text("signed and locked", timeout=10_000)
    expect(status).to_contain_text("Press Save to keep your text as an addendum")
    page.wait_for_timeout(5_000)  # longer than the first two retries would wait
    assert len(sent) == 1
    expect(page.get_by_label("Symptoms reviewed")).to_have_value("Typed while it was being signed.")
