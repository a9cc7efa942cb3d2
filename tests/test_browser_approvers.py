"""A run waiting for a listed approver, in chromium: another member is refused, the approver decides on the run page."""

import pytest
from playwright.sync_api import expect

from docg.executions.choices import ApprovalStatus, ExecutionStatus
from docg.executions.models import WorkflowApproval
from docg.executions.tests.builders import action, active_workflow
from tests.fixtures.browser import logged_in_page
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REVIEW = action(
    "review", "approval", parameters={"message": "Send the contract to Ana?", "approvers": ["bob@example.com"]}
)
AFTER = action("after", "set_variables", parameters={"variables": {"done": "yes"}})


def test_only_the_listed_approver_decides_on_the_run_page(cast, browser, dashboard_server, worker):
    workflow = active_workflow(cast, REVIEW, AFTER, name="Contract")
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {}}, format="json"
    )
    execution_id = started.json()["id"]
    wait_for_status(execution_id, ExecutionStatus.PAUSED)
    run_page = f"/executions/{execution_id}/"

    owner = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path=run_page)
    panel = owner.locator("[data-run-approval]")
    expect(panel).to_contain_text("Send the contract to Ana?")
    expect(panel).to_contain_text("bob@example.com")
    panel.get_by_role("button", name="Approve").click()
    expect(owner.locator(".message.error")).to_contain_text("Only the approvers named on this step may decide it")
    assert WorkflowApproval.objects.get(execution_id=execution_id).status == ApprovalStatus.PENDING
    owner.close()

    approver = logged_in_page(browser, dashboard_server.url, "bob@example.com", next_path=run_page)
    panel = approver.locator("[data-run-approval]")
    panel.get_by_label("Comment").fill("Price checked")
    panel.get_by_role("button", name="Approve").click()
    expect(approver.locator(".message.success")).to_contain_text("Approved: the run goes on.")
    assert approver.url.endswith(run_page)
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    decided = WorkflowApproval.objects.get(execution_id=execution_id)
    assert (decided.status, decided.comment, decided.decided_by) == (ApprovalStatus.APPROVED, "Price checked", cast.bob)
