"""A real browser (Debian's chromium via Playwright) follows a run live; the server is cut mid-run,
EventSource reconnects by itself with Last-Event-ID, and the page ends with the complete,
ordered event list."""

import pytest

from docg.executions.choices import ExecutionStatus
from docg.executions.streams import execution_key, get_streams
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.cast import PASSWORD
from tests.fixtures.engine import wait_for_status
from tests.fixtures.processes import LiveServer, start_delayed_run, wait_for_delay_step, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENV = {"STEP_LEASE_SECONDS": "5", "REAPER_INTERVAL_SECONDS": "0.5", "SSE_RETRY_MS": "300"}


def test_page_reconnects_after_server_cut_and_shows_every_event_in_order(cast, browser):
    web = LiveServer(**ENV)
    worker = worker_process("browser-worker", **ENV)
    try:
        execution_id, _ = start_delayed_run(web, cast.alice, cast.acme, "Live contract")

        page = browser.new_page()
        page.goto(f"{web.url}/login/?next=/executions/{execution_id}/")
        page.fill("#id_username", "alice@example.com")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-events] li", timeout=15000)

        # Cut the server while the run waits in its delay; bring it back on the same port.
        wait_for_delay_step(execution_id)
        port = web.port
        web.stop()
        page.wait_for_function(
            "document.querySelector('[data-stream-url]').dataset.reconnecting === 'true'", timeout=15000
        )
        web = LiveServer(port=port, **ENV)

        page.wait_for_selector("[data-stream-url][data-done=true]", timeout=30000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live-view.png"), full_page=True)
        shown = page.eval_on_selector_all("[data-events] li", "items => items.map(i => [i.dataset.type, i.dataset.id])")
        done = wait_for_status(execution_id, ExecutionStatus.COMPLETED, timeout=10)
        assert done.progress == 100
        assert page.get_attribute("[data-status]", "data-status") == "completed"
        assert page.get_attribute("#run-progress", "value") == "100"
        stream = get_streams()
        epoch = stream.epoch()
        expected = [(e["event_type"], f"{epoch}:{i}") for i, e in stream.read(execution_key(execution_id))]
        assert shown == [list(item) for item in expected]
        assert shown[-1][0] == "execution.completed"
    finally:
        worker.stop()
        web.stop()
