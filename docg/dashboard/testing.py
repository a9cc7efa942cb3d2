"""Browser-test kit: Debian's chromium through Playwright, a live daphne, a logged-in page.

Fixtures are loaded with the shared ones (docg/conftest.py). Browser tests are
`pytest.mark.django_db(transaction=True)` so the daphne child process sees their rows.
"""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from docg.common.testing import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip
# Waits in browser tests: generous deadlines on a condition, never a sleep.
UI_TIMEOUT_MS = 20000


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain blocking ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connection: close it here.
        from django.db import connections

        connections.close_all()


@pytest.fixture(scope="session")
def dashboard_server(django_db_setup):
    """One daphne for the whole session (it holds no state of its own; each test's rows are flushed).

    After django_db_setup, so the child is given the test database's name, not the configured one.
    """
    from docg.executions.testing import LiveServer

    server = LiveServer(SSE_RETRY_MS="300")
    yield server
    server.stop()


def logged_in_page(
    browser, base_url: str, email: str, *, next_path: str = "/", width: int = 1280, height: int = 900, password=PASSWORD
):
    """A new page logged in through the real login form, sitting on `next_path`."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(f"{base_url}/login/?next={next_path}")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path.split('?')[0]}**")
    return page


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (kept out of git) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
