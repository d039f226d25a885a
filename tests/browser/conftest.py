"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Every page a journey visits is checked with axe (``checked(page)``): no serious or critical
violation. When a test fails, a screenshot of its page is kept under ``ARTIFACTS`` (the path is
printed with the failure).
"""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VENDOR_ASSETS = ["bootstrap.min.css", "bootstrap.bundle.min.js", "htmx.min.js"]
BLOCKING = {"serious", "critical"}
_axe = Axe()


@pytest.fixture(scope="session", autouse=True)
def _assets_and_browser_present():
    missing = [name for name in VENDOR_ASSETS if not (ROOT / "static/vendor" / name).exists()]
    if missing:
        pytest.fail(
            f"static/vendor/ lacks {', '.join(missing)}: run `make install` (or `make assets`) "
            "before the browser tests; they load Bootstrap and htmx from the app itself.",
            pytrace=False,
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install it (apt-get install -y chromium "
            "chromium-driver) or set CHROMIUM_PATH.",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread while the browser is open, and
    # Django refuses ORM calls from a thread with a running loop unless told otherwise. The
    # permission lasts only as long as the browser, so no other test (or the subprocesses
    # they start) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.js_errors = errors
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", request.node.nodeid) + ".png")
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nScreenshot of the failed page ({page.url}): {shot}")
        except Exception as exc:  # noqa: BLE001 - a screenshot must not hide the failure
            print(f"\nNo screenshot ({exc}); artifacts folder: {ARTIFACTS}")
    context.close()


def checked(page: Page) -> Page:
    """Run axe on the page as it is now; fail on any serious or critical violation, and on
    any script error or CSP refusal seen so far."""
    page.wait_for_load_state()
    results = _axe.run(page)
    blocking = [
        f"{v['impact']}: {v['id']} - {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(blocking)
    assert not page.js_errors, f"script errors on {page.url}: {page.js_errors}"
    return page
