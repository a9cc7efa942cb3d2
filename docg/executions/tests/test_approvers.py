"""Only a listed approver decides an approval; with no list, an owner or admin of the organization does."""

import pytest

from docg.executions.choices import ApprovalStatus, ExecutionStatus
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.tests.builders import action, active_workflow
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status, wait_until

AFTER = action("after", "set_variables", parameters={"variables": {"done": "yes"}})


def pending_approval(cast, approvers: list[str]) -> WorkflowApproval:
    workflow = active_workflow(cast, action("review", "approval", parameters={"message": "Send it?"}))
    workflow.refresh_from_db()
    execution = WorkflowExecution.objects.create(
        organization=cast.acme, workflow=workflow, workflow_version=workflow.active_version, triggered_by=cast.alice
    )
    step = ExecutionStep.objects.create(organization=cast.acme, execution=execution, node_key="review", index=1)
    return WorkflowApproval.objects.create(
        organization=cast.acme, execution=execution, step=step, node_key="review", message="Send it?",
        approvers=approvers,
    )  # fmt: skip


def decide(user, approval, approved=True):
    return api_client_for(user).post(
        f"/api/v1/approvals/{approval.pk}/decide", {"approved": approved, "comment": "ok"}, format="json"
    )


@pytest.mark.django_db
def test_an_owner_not_on_the_list_is_refused_and_nothing_changes(cast):
    approval = pending_approval(cast, ["Bob@Example.com"])
    response = decide(cast.alice, approval)
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "approval.not_an_approver"
    assert "bob@example.com" in error["message"].lower()
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.PENDING, None)


@pytest.mark.django_db
def test_with_no_list_a_member_is_refused(cast):
    approval = pending_approval(cast, [])
    response = decide(cast.bob, approval, approved=False)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "approval.not_an_approver"
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_listed_member_decides_and_the_run_goes_on(cast, worker):
    workflow = active_workflow(
        cast, action("review", "approval", parameters={"message": "Send it?", "approvers": ["bob@example.com"]}), AFTER
    )
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {}}, format="json"
    )
    execution_id = started.json()["id"]
    wait_for_status(execution_id, ExecutionStatus.PAUSED)
    approval = WorkflowApproval.objects.get(execution_id=execution_id)
    assert decide(cast.alice, approval).status_code == 403
    response = decide(cast.bob, approval)
    assert response.status_code == 200, response.content
    assert response.json()["decided_by"] == str(cast.bob.pk)
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)


@pytest.mark.django_db(transaction=True)
def test_listed_approvers_are_emailed_a_link_to_decide(cast, worker, mailoutbox):
    workflow = active_workflow(
        cast,
        action("review", "approval", parameters={"message": "Send it to Ana?", "approvers": ["bob@example.com"]}),
        AFTER,
        name="Contract",
    )
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {}}, format="json"
    )
    wait_for_status(started.json()["id"], ExecutionStatus.PAUSED)
    approval = WorkflowApproval.objects.get(execution_id=started.json()["id"])
    wait_until(lambda: mailoutbox, what="the approvers' e-mail")
    [mail] = mailoutbox
    assert mail.to == ["bob@example.com"]
    assert "Contract" in mail.subject
    assert "Send it to Ana?" in mail.body
    assert f"/approvals/#approval-{approval.pk}" in mail.body
