"""Bulk actions and the retention policy in a real browser (Debian's chromium via Playwright).

The dashboard is the session's web server; the bulk operation runs in this
process's Dramatiq worker (`worker`), whose retried runs run there too.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

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
