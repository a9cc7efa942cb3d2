"""The production path in a real browser: the Procfile's `release` step, then its `web` process.

Under config.settings.production every page links hashed static names (ManifestStaticFilesStorage), which
only collectstatic's output holds. This test runs the Procfile's own commands (whatever server `web` names)
with production settings and a temporary STATIC_ROOT, and checks in chromium that the stylesheets apply,
htmx answers, the editor's ES modules load by their hashed names, and Swagger UI draws.
"""

import os
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page
from tests.fixtures.cast import PASSWORD
from tests.fixtures.engine import wait_until
from tests.fixtures.processes import ChildProcess, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")


def procfile(process: str) -> str:
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"The Procfile has no {process!r} process.")


@pytest.fixture
def production_server(cast, tmp_path):
    # The test settings hash passwords with MD5 for speed; production only checks its own hashers.
    hasher = PBKDF2PasswordHasher()
    cast.alice.password = hasher.encode(PASSWORD, hasher.salt())
    cast.alice.save(update_fields=["password"])
    port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        # The Procfile names bare `python` / server commands: the virtualenv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    release = ChildProcess(["bash", "-c", procfile("release")], name="production-release", **env)
    assert release.process.wait(timeout=300) == 0, release.log_tail()
    assert any((tmp_path / "static" / "css").glob("docg.*.css")), "collectstatic wrote no hashed stylesheet"

    web = ChildProcess(["bash", "-c", f"exec {procfile('web')}"], name="production-web", **env)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        import httpx

        assert web.process.poll() is None, f"the web process exited:\n{web.log_tail()}"
        try:
            return httpx.get(f"{url}/login/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout=60, what="the Procfile's web process")
        yield url
    finally:
        web.stop()


def watch_static(page) -> list:
    """Every /static/ response the page receives, as (path, status, cache-control)."""
    seen = []
    page.on(
        "response",
        lambda r: "/static/" in r.url and seen.append((r.url.split("?")[0], r.status, r.headers.get("cache-control"))),
    )
    return seen


def assert_served_hashed(seen: list, *, contains: str) -> None:
    assert any(contains in path for path, _, _ in seen), (contains, seen)
    for path, status, cache in seen:
        if path.endswith((".css", ".js")):
            assert HASHED.search(path), f"{path} is not a hashed name"
            assert status == 200, (path, status)
            assert "immutable" in (cache or ""), (path, cache)


def test_production_pages_load_their_css_and_js(cast, browser, production_server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(UI_TIMEOUT_MS)
    seen = watch_static(page)
    page.goto(f"{production_server}/login/")
    # docg.css paints the page background (--bg: #f5f6fa); an unstyled page is transparent.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 246, 250)"
    page.wait_for_function("window.htmx !== undefined")
    assert_served_hashed(seen, contains="/static/css/docg.")
    page.close()

    page = logged_in_page(browser, production_server, "alice@example.com", next_path="/executions/")
    seen = watch_static(page)
    page.reload()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 246, 250)"
    # htmx is alive: changing a filter asks for the rows alone and swaps them in.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
        page.locator("form.filters select").first.select_option(index=1)
    assert answer.value.status == 200
    expect(page.locator("#run-rows")).to_be_attached()
    assert_served_hashed(seen, contains="/static/vendor/htmx-")
    page.close()


def test_production_editor_loads_its_es_modules_by_hashed_names(cast, browser, production_server):
    page = logged_in_page(browser, production_server, "alice@example.com", next_path="/workflows/new/")
    seen = watch_static(page)
    page.reload()
    page.wait_for_selector("[data-editor][data-ready=true]")
    modules = [path for path, _, _ in seen if "/static/js/editor/" in path]
    # Every module the editor imports (not only main.js) comes by its hashed name, so a long cache
    # never mixes two deploys' modules.
    assert len(modules) >= 7, modules
    assert_served_hashed(seen, contains="/static/js/editor/main.")

    page.goto(f"{production_server}/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    page.close()
