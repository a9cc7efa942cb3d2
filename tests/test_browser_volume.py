"""Bulk actions and the retention policy in a real browser (Debian's chromium via Playwright).

The dashboard is the session's web server; the bulk operation runs in this
process's Dramatiq worker (`worker`), whose retried runs run there too, or, to
watch its page follow it live, batch by batch in the test itself.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from docg.executions import bulk
from docg.executions.choices import ExecutionStatus
from docg.executions.models import BulkOperation, RetentionPolicy, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def ended_runs(workflow, organization, count: int, status: str) -> list[WorkflowExecution]:
    workflow.refresh_from_db()
    return WorkflowExecution.objects.bulk_create(
        WorkflowExecution(
            organization=organization,
            workflow=workflow,
            workflow_version=workflow.active_version,
            status=status,
            last_error_code="provider.down" if status == ExecutionStatus.FAILED else "",
            trigger_data={"customer": f"c{i}"},
        )
        for i in range(count)
    )


def test_alice_retries_every_failed_run_after_a_confirmation_and_watches_it_finish(
    cast, browser, dashboard_server, worker
):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    failed = ended_runs(workflow, cast.acme, 6, ExecutionStatus.FAILED)
    ended_runs(workflow, cast.acme, 2, ExecutionStatus.COMPLETED)

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/executions/?status=failed")
    page.click("[data-bulk-link]")
    page.wait_for_url("**/runs/bulk/**")
    expect(page.locator("#bulk-status")).to_have_value("failed")
    page.click("[data-bulk-preview-button]")
    preview = page.locator("[data-bulk-preview]")
    expect(preview).to_have_attribute("data-count", "6")
    expect(preview).to_contain_text("This will retry 6 runs.")
    assert not BulkOperation.objects.exists()  # Counting acts on nothing.

    page.click("[data-bulk-confirm]")
    page.wait_for_url("**/runs/bulk/*-*/")
    card = page.locator("[data-bulk-operation]")
    # The page refreshes itself while the worker goes through the runs.
    expect(card).to_have_attribute("data-status", "completed", timeout=UI_TIMEOUT_MS * 2)
    expect(page.locator("[data-done]")).to_have_text("6")
    expect(page.locator("[data-failed]")).to_have_text("0")
    screenshot(page, "bulk-retry-done")

    children = WorkflowExecution.objects.filter(parent_execution__isnull=False)
    assert sorted(str(c.parent_execution_id) for c in children) == sorted(str(r.pk) for r in failed)
    page.close()


def test_viewers_get_no_bulk_actions(cast, browser, dashboard_server):
    page = logged_in_page(browser, dashboard_server.url, "vera@example.com", next_path="/executions/")
    expect(page.locator("[data-bulk-link]")).to_have_count(0)
    assert page.goto(f"{dashboard_server.url}/runs/bulk/").status == 404
    page.close()


def test_the_owner_sets_retention_and_a_member_only_reads_it(cast, browser, dashboard_server):
    workflow = active_workflow(cast, PREPARE)
    (old,) = ended_runs(workflow, cast.acme, 1, ExecutionStatus.COMPLETED)
    WorkflowExecution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=45))

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/settings/retention/")
    page.fill("#run-days", "30")
    page.fill("#document-days", "90")
    page.click("[data-retention-form] button[type=submit]")
    expect(page.locator(".message.success")).to_contain_text("Retention policy saved.")
    summary = page.locator("[data-retention-runs]")
    expect(summary).to_have_attribute("data-retention-runs", "30")
    expect(summary).to_have_attribute("data-retention-documents", "90")
    expect(page.locator("[data-retention-preview]")).to_contain_text("1 runs")
    screenshot(page, "retention-policy")
    policy = RetentionPolicy.objects.get(organization=cast.acme)
    assert (policy.run_days, policy.document_days) == (30, 90)
    page.close()

    page = logged_in_page(browser, dashboard_server.url, "bob@example.com", next_path="/settings/retention/")
    expect(page.locator("[data-retention-runs]")).to_have_attribute("data-retention-runs", "30")
    expect(page.locator("[data-retention-form]")).to_have_count(0)
    page.close()


def test_alice_ticks_three_of_five_failed_runs_and_only_those_are_retried(cast, browser, dashboard_server, worker):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    failed = ended_runs(workflow, cast.acme, 5, ExecutionStatus.FAILED)
    chosen, left = failed[:3], failed[3:]

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/executions/?status=failed")
    expect(page.locator("[data-select-run]")).to_have_count(5)
    page.check(f"#select-{chosen[0].pk}")
    page.check(f"#select-{chosen[1].pk}")
    # The keyboard alone ticks a run too; each box is labelled with the run it selects.
    page.focus(f"#select-{chosen[2].pk}")
    page.keyboard.press("Space")
    expect(page.get_by_label("Select the run of Contracts started", exact=False)).to_have_count(5)
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    expect(page.locator("[data-select-page]")).to_have_js_property("indeterminate", True)
    screenshot(page, "runs-selection")
    page.click("[data-bulk-retry]")

    page.wait_for_url("**/runs/bulk/")
    expect(page.locator("[data-bulk-selected]")).to_have_attribute("data-bulk-selected", "3")
    preview = page.locator("[data-bulk-preview]")
    expect(preview).to_have_attribute("data-count", "3")
    expect(preview).to_contain_text("This will retry 3 runs.")
    assert not BulkOperation.objects.exists()  # The confirmation acts on nothing yet.
    screenshot(page, "bulk-selection-confirmation")

    page.click("[data-bulk-confirm]")
    page.wait_for_url("**/runs/bulk/*-*/")
    expect(page.locator("[data-bulk-operation]")).to_have_attribute(
        "data-status", "completed", timeout=UI_TIMEOUT_MS * 2
    )
    expect(page.locator("[data-done]")).to_have_text("3")
    children = WorkflowExecution.objects.filter(parent_execution__isnull=False)
    assert sorted(str(c.parent_execution_id) for c in children) == sorted(str(r.pk) for r in chosen)
    assert not WorkflowExecution.objects.filter(parent_execution__in=left).exists()
    page.close()


def test_bob_cancels_every_run_that_matches_beyond_the_first_page(cast, browser, dashboard_server, worker):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    other = active_workflow(cast, PREPARE, name="Invoices")
    paused = ended_runs(workflow, cast.acme, 30, ExecutionStatus.PAUSED)
    untouched = ended_runs(other, cast.acme, 2, ExecutionStatus.PAUSED)

    page = logged_in_page(browser, dashboard_server.url, "bob@example.com", next_path="/executions/")
    page.goto(f"{dashboard_server.url}/executions/?status=paused&workflow={workflow.pk}")
    expect(page.locator("[data-select-run]")).to_have_count(25)  # One page.
    page.focus("[data-select-page]")
    page.keyboard.press("Space")
    expect(page.locator("[data-select-run]:checked")).to_have_count(25)
    expect(page.locator("[data-selected-count]")).to_have_text("25")
    expect(page.locator("label:has([data-scope-filter])")).to_have_text("All 30 runs that match this filter")
    page.check("[data-scope-filter]")
    page.click("[data-bulk-cancel]")

    page.wait_for_url("**/runs/bulk/")
    preview = page.locator("[data-bulk-preview]")
    expect(preview).to_have_attribute("data-count", "30")
    expect(preview).to_contain_text("This will cancel 30 runs.")
    page.click("[data-bulk-confirm]")
    page.wait_for_url("**/runs/bulk/*-*/")
    expect(page.locator("[data-bulk-operation]")).to_have_attribute(
        "data-status", "completed", timeout=UI_TIMEOUT_MS * 2
    )
    expect(page.locator("[data-done]")).to_have_text("30")
    statuses = set(WorkflowExecution.objects.filter(pk__in=[r.pk for r in paused]).values_list("status", flat=True))
    assert statuses == {ExecutionStatus.CANCELED}
    assert set(WorkflowExecution.objects.filter(pk__in=[r.pk for r in untouched]).values_list("status", flat=True)) == {
        ExecutionStatus.PAUSED
    }
    page.close()


def test_the_operation_page_follows_progress_live_without_reloading(cast, browser, dashboard_server, settings):
    """The batches run here, one by one, while the page is open: each shows up on it through the stream."""
    settings.BULK_BATCH_SIZE = 2
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    ended_runs(workflow, cast.acme, 5, ExecutionStatus.PAUSED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_send", lambda pk: None)  # No worker: this test is the worker.
        operation = bulk.bulk_create(
            organization=cast.acme, by=cast.alice, action="cancel", filter={"status": "paused"}
        )

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path=f"/runs/bulk/{operation.pk}/")
    live = page.locator("[data-bulk-live]")
    expect(live).to_have_attribute("data-live", "on")
    expect(page.locator("[data-pending]")).to_have_text("5")
    page.evaluate("window.notReloaded = true")

    for done, pending in [(2, 3), (4, 1)]:
        assert bulk.bulk_batch(operation_id=operation.pk) is True
        expect(page.locator("[data-done]")).to_have_text(str(done))
        expect(page.locator("[data-pending]")).to_have_text(str(pending))
        expect(page.locator("[data-bulk-operation]")).to_have_attribute("data-status", "running")
    expect(page.locator("[data-bulk-progress]")).to_have_attribute("value", "80")
    assert bulk.bulk_batch(operation_id=operation.pk) is False

    expect(page.locator("[data-bulk-operation]")).to_have_attribute("data-status", "completed")
    expect(page.locator("[data-done]")).to_have_text("5")
    expect(page.locator("[data-action=bulk-cancel]")).to_have_count(0)  # The card was read again at the end.
    expect(live).to_have_attribute("data-live", "done")
    assert page.evaluate("window.notReloaded") is True
    page.close()
