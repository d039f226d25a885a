"""An idle logout while a note is being written: the idle limit still ends the session, and
after logging in again the browser is back on the note with everything typed put back."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN
from sessions.models import SessionNote

from .conftest import checked
from .helpers import log_in
from .note_scene import log_in_here, note_to_write

pytestmark = pytest.mark.django_db(transaction=True)


def _leave_idle(page: Page, minutes: int) -> None:
    """As if nothing had been asked of the server for ``minutes``."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[SESSION_LAST_SEEN] = (timezone.now() - timedelta(minutes=minutes)).isoformat()
    session.save()


def test_it_restores_the_text_typed_before_an_idle_logout(page: Page):
    alice, device, note = note_to_write()
    log_in(page, "alice", device)
    note_url = reverse("therapy:note", args=[note.session_id])
    page.goto(note_url)
    checked(page)
    field = page.get_by_label("Symptoms reviewed")
    field.fill("Sleeping four hours a night.")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at", timeout=10_000)

    _leave_idle(page, minutes=20)
    typed = "Sleeping four hours a night. Her sister visited on Sunday and they argued."
    field.fill(typed)

    # The autosave finds the session over: the page goes to the login, the note to come back to.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?expired=1&next=%2F"), timeout=10_000)
    expect(page.get_by_text("You were logged out to protect patient records")).to_be_visible()
    checked(page)
    stored = SessionNote.objects.get(pk=note.pk)
    assert stored.symptoms_reviewed == "Sleeping four hours a night."  # the limit held

    log_in_here(page, "alice", device)

    expect(page).to_have_url(re.compile(rf"{re.escape(note_url)}$"))
    expect(page.get_by_text("Restored your unsaved text")).to_be_visible()
    expect(page.get_by_label("Symptoms reviewed")).to_have_value(typed)
    checked(page)
    page.get_by_label("Risk check").select_option(label="No current risk identified")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile(r"Note saved \(version \d+\)"))).to_be_visible()
    assert SessionNote.objects.get(pk=note.pk).symptoms_reviewed == typed
