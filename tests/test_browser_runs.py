"""Running a workflow from the dashboard in a real browser (Debian's chromium via Playwright).

The dashboard is the session's web server (`dashboard_server`); the steps run in this
process's Dramatiq worker (`worker`), on the same PostgreSQL and Redis, so a test
can register its own action (a CRM call that fails once, then works).
"""

import threading

import pytest
from playwright.sync_api import expect

from docg.common.errors import DocgError
from docg.connectors import registry
from docg.connectors.registry import App, Operation
from docg.connectors.runtime import ActionResult
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.executions.tests.builders import PREPARE, action, active_workflow
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot
from tests.fixtures.engine import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAIT = action("wait", "delay", label="Wait for the CRM", parameters={"seconds": 1})
FINISH = action("finish", "set_variables", label="Mark as sent", parameters={"variables": {"done": True}})
CRM_REFUSAL = "The CRM refused the contact: its email address is missing. Add it in the CRM, then retry."


@pytest.fixture
def flaky_crm():
    """A `crm.push` action that fails the first time (as a CRM would on bad data) and works after."""
    calls = {"n": 0}
    lock = threading.Lock()

    def push(ctx, params):
        with lock:
            calls["n"] += 1
            first = calls["n"] == 1
        if first:
            raise DocgError(
                "crm.rejected", "422 from CRM", {"status": 422, "body": {"email": "required"}}, human=CRM_REFUSAL
            )
        return ActionResult(output={"contact_id": "c-42"})

    app = App(slug="crm", name="CRM")
    app.action(Operation(name="push", label="Push contact", handler=push, max_attempts=1))
    registry.register(app)
    yield calls
    registry._APPS.pop("crm", None)


def test_alice_runs_a_workflow_and_watches_it_finish_live(cast, browser, dashboard_server, worker):
    workflow = active_workflow(cast, PREPARE, WAIT, FINISH, name="Welcome pack")
    page = logged_in_page(
        browser, dashboard_server.url, "alice@example.com", next_path=f"/workflows/{workflow.pk}/run/"
    )
    editor = page.locator("textarea[data-json-editor]")
    editor.fill('{"customer": "Ana",')
    expect(page.locator("[data-json-status]")).to_contain_text("JSON")
    expect(editor).to_have_attribute("aria-invalid", "true")
    editor.fill('{"customer": "Ana"}')
    expect(editor).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "run-form")

    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(f"{dashboard_server.url}/executions/**")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    expect(page.locator("[data-status]")).to_have_attribute("data-status", "completed", timeout=30000)
    expect(page.locator("#run-progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-progress-text]")).to_have_text("100 %")
    expect(page.locator("[data-stream-url]")).to_have_attribute("data-done", "true")
    # The timeline and the timings were refreshed in place as the steps ran.
    expect(page.locator('[data-step="finish"]')).to_have_attribute("data-step-status", "success")
    expect(page.locator("#phase-metrics .phase-seg.phase-preflight")).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true")
    types = page.eval_on_selector_all("[data-events] li", "items => items.map(i => i.dataset.type)")
    assert types[0] == "execution.created" and types[-1] == "execution.completed"

    page.get_by_role("tab", name="Logs").click()
    expect(page.locator("#panel-logs [data-logs]")).to_contain_text("Run completed.")
    screenshot(page, "execution-live")

    execution = WorkflowExecution.objects.get(workflow=workflow)
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.trigger_data == {"customer": "Ana"}
    assert page.url.endswith(f"/executions/{execution.pk}/")


def test_a_failed_step_shows_its_human_error_and_retries_from_there(cast, browser, dashboard_server, worker, flaky_crm):
    push = action("push", "push", app="crm", label="Send to CRM")
    workflow = active_workflow(cast, PREPARE, push, FINISH, name="CRM sync")
    failed = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)
    wait_for_status(failed.pk, ExecutionStatus.FAILED, timeout=30)

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path=f"/executions/{failed.pk}/")
    expect(page.locator("[data-error-human]")).to_have_text(CRM_REFUSAL)
    details = page.locator("#problem details.tech")
    expect(details.locator("pre")).not_to_be_visible()
    details.locator("summary").click()
    expect(details.locator("pre")).to_contain_text("422 from CRM")
    expect(page.locator("#retry-from")).to_have_value("push")  # the failed step is preselected
    screenshot(page, "execution-failed")

    page.get_by_role("button", name="Retry").click()
    page.wait_for_url(lambda url: "/executions/" in url and str(failed.pk) not in url)
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "completed", timeout=30000)
    expect(page.locator("#run-progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-parent-link]")).to_have_attribute("href", f"/executions/{failed.pk}/")

    retry = WorkflowExecution.objects.get(parent_execution=failed)
    assert retry.status == ExecutionStatus.COMPLETED and retry.retry_from_step == "push"
    assert page.url.endswith(f"/executions/{retry.pk}/")
    # The step before the retried one kept its recorded result instead of running again.
    reused = ExecutionStep.objects.get(execution=retry, node_key="prepare")
    assert "reused_from_step" in reused.data_in
    assert ExecutionStep.objects.get(execution=retry, node_key="push").status == StepStatus.SUCCESS
    assert flaky_crm["n"] == 2

    # At phone width the failed run still reads well and nothing scrolls sideways.
    phone = logged_in_page(
        browser, dashboard_server.url, "alice@example.com", next_path=f"/executions/{failed.pk}/", width=390
    )
    expect(phone.locator("[data-error-human]")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone, "execution-failed-phone")


def test_the_runs_list_shows_a_new_run_and_its_status_without_reload(cast, browser, dashboard_server, worker):
    workflow = active_workflow(cast, PREPARE, WAIT, FINISH, name="Quarterly report")
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/executions/")
    expect(page.locator("[data-org-stream]")).to_have_attribute("data-live", "on")
    page.evaluate("window.__sameDocument = true")

    run = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)
    row = page.locator(f'tr[data-execution-id="{run.pk}"]')
    expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(row.locator("[data-run-status]")).to_have_attribute("data-run-status", "completed", timeout=30000)
    expect(row.locator("[data-run-progress]")).to_have_attribute("value", "100")
    assert page.evaluate("window.__sameDocument === true")
    screenshot(page, "executions-list")

    phone = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/executions/", width=390)
    expect(phone.locator(f'tr[data-execution-id="{run.pk}"] [data-run-status]')).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone, "executions-list-phone")


def test_another_organizations_run_is_not_found(cast, browser, dashboard_server):
    workflow = active_workflow(cast, PREPARE, name="Acme secret")
    run = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)
    page = logged_in_page(browser, dashboard_server.url, "charlie@example.com")
    response = page.goto(f"{dashboard_server.url}/executions/{run.pk}/")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("Not found")
    expect(page.locator("main")).not_to_contain_text("Acme secret")
