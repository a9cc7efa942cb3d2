"""Approvals inbox: pending approvals with their document, decided with a comment; viewers only read."""

import pytest

from docg.documents.storage import document_store
from docg.executions.choices import ApprovalStatus, ExecutionStatus
from docg.executions.models import WorkflowApproval, WorkflowExecution
from docg.executions.tests.builders import APPROVAL, action, active_workflow
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

AFTER = action("after", "set_variables", parameters={"variables": {"done": "yes"}})
HTMX = {"HTTP_HX_REQUEST": "true"}


def pending(cast, organization=None, message="Send the contract to Ana?", name="Contract flow"):
    """A pending approval row on a run (no worker needed: for reading and refusals)."""
    organization = organization or cast.acme
    workflow = active_workflow(cast, APPROVAL, organization=organization, name=name)
    execution = WorkflowExecution.objects.create(organization=organization, workflow=workflow)
    return WorkflowApproval.objects.create(
        organization=organization, execution=execution, node_key="review", message=message
    )


def paused_run(cast) -> str:
    """A real run waiting in its approval step (needs the `worker` fixture)."""
    workflow = active_workflow(cast, APPROVAL, AFTER, name="Contract flow")
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {"customer": "Ana"}}, format="json"
    )
    assert started.status_code == 202, started.content
    execution_id = started.json()["id"]
    wait_for_status(execution_id, ExecutionStatus.PAUSED)
    return execution_id


@pytest.mark.django_db
def test_inbox_lists_pending_approvals_with_their_document_preview_link(client, cast):
    approval = pending(cast)
    document = document_store(
        organization=cast.acme, name="contract-ana.pdf", data=b"%PDF-1.4 test", content_type="application/pdf",
        execution=approval.execution,
    )  # fmt: skip
    client.force_login(cast.alice)
    page = client.get("/approvals/").content.decode()
    assert "Send the contract to Ana?" in page
    assert "Contract flow" in page
    assert f"/documents/{document.pk}/preview/" in page
    assert f"/approvals/{approval.pk}/decide/" in page
    assert 'value="approve"' in page and 'value="reject"' in page
    preview = client.get(f"/documents/{document.pk}/preview/")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "application/pdf"
    assert b"".join(preview.streaming_content) == b"%PDF-1.4 test"


@pytest.mark.django_db
def test_nav_shows_approvals_and_decided_tab_lists_past_decisions(client, cast):
    approval = pending(cast)
    WorkflowApproval.objects.filter(pk=approval.pk).update(
        status=ApprovalStatus.REJECTED, comment="Wrong price", decided_by=cast.bob
    )
    client.force_login(cast.alice)
    inbox = client.get("/approvals/").content.decode()
    assert 'href="/approvals/"' in inbox
    assert "Nothing waits for you" in inbox
    decided = client.get("/approvals/?tab=decided").content.decode()
    assert "Wrong price" in decided
    assert "bob@example.com" in decided
    assert "/decide/" not in decided


@pytest.mark.django_db(transaction=True)
def test_approving_with_a_comment_resumes_the_run_and_leaves_the_inbox(client, cast, worker):
    execution_id = paused_run(cast)
    approval = WorkflowApproval.objects.get(execution_id=execution_id)
    client.force_login(cast.alice)
    assert f"approval-{approval.pk}" in client.get("/approvals/").content.decode()

    response = client.post(
        f"/approvals/{approval.pk}/decide/", {"decision": "approve", "comment": "Price checked"}, **HTMX
    )
    assert response.status_code == 200
    assert "Approved: the run goes on." in response.content.decode()
    approval.refresh_from_db()
    assert (approval.status, approval.comment, approval.decided_by) == ("approved", "Price checked", cast.alice)
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    assert f"approval-{approval.pk}" not in client.get("/approvals/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_rejecting_without_htmx_stops_the_run_and_says_so(client, cast, worker):
    execution_id = paused_run(cast)
    approval = WorkflowApproval.objects.get(execution_id=execution_id)
    client.force_login(cast.bob)  # a member may not decide an approval that names no approvers
    refused = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "reject"}, follow=True)
    assert "only an owner or admin of the organization may decide it" in refused.content.decode()
    assert WorkflowApproval.objects.get(pk=approval.pk).status == ApprovalStatus.PENDING
    client.force_login(cast.alice)  # the owner may
    response = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "reject"}, follow=True)
    assert response.status_code == 200
    assert "Rejected: the run was stopped." in response.content.decode()
    assert WorkflowExecution.objects.get(pk=execution_id).status == ExecutionStatus.CANCELED
    assert WorkflowApproval.objects.get(pk=approval.pk).status == ApprovalStatus.REJECTED


@pytest.mark.django_db
def test_viewer_sees_no_decision_buttons_and_a_post_is_refused(client, cast):
    approval = pending(cast)
    client.force_login(cast.vera)
    page = client.get("/approvals/").content.decode()
    assert "Send the contract to Ana?" in page
    assert "/decide/" not in page
    assert 'value="approve"' not in page
    response = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    assert WorkflowApproval.objects.get(pk=approval.pk).status == ApprovalStatus.PENDING


@pytest.mark.django_db
def test_another_organizations_approval_is_a_404(client, cast):
    theirs = pending(cast, organization=cast.globex, message="Globex secret deal")
    client.force_login(cast.alice)
    assert "Globex secret deal" not in client.get("/approvals/").content.decode()
    response = client.post(f"/approvals/{theirs.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    assert WorkflowApproval.objects.get(pk=theirs.pk).status == ApprovalStatus.PENDING


@pytest.mark.django_db
def test_bad_decisions_are_refused_clearly(client, cast):
    approval = pending(cast)
    client.force_login(cast.alice)
    for body in ({}, {"decision": "maybe"}, {"decision": "approve", "comment": "x" * 5001}):
        response = client.post(f"/approvals/{approval.pk}/decide/", body)
        assert response.status_code == 400, body
    htmx = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "perhaps"}, **HTMX)
    assert htmx.status_code == 200
    assert "Choose Approve or Reject." in htmx.content.decode()
    assert WorkflowApproval.objects.get(pk=approval.pk).status == ApprovalStatus.PENDING
    assert client.post("/approvals/not-a-uuid/decide/", {"decision": "approve"}).status_code == 404
    assert client.get(f"/approvals/{approval.pk}/decide/").status_code == 405
    assert client.get("/approvals/?tab=nonsense&page=zzz").status_code == 200


@pytest.mark.django_db
def test_an_already_decided_approval_cannot_be_decided_again(client, cast):
    approval = pending(cast)
    WorkflowApproval.objects.filter(pk=approval.pk).update(status=ApprovalStatus.APPROVED)
    client.force_login(cast.alice)
    response = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "reject"})
    assert response.status_code == 409
    assert "can no longer be decided" in response.content.decode()
    swapped = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "reject"}, **HTMX).content.decode()
    assert "can no longer be decided" in swapped
    assert "/decide/" not in swapped
    assert WorkflowApproval.objects.get(pk=approval.pk).status == ApprovalStatus.APPROVED


@pytest.mark.django_db(transaction=True)
def test_the_run_page_decides_its_pending_approval_with_a_comment(client, cast, worker):
    execution_id = paused_run(cast)
    approval = WorkflowApproval.objects.get(execution_id=execution_id)
    client.force_login(cast.alice)
    page = client.get(f"/executions/{execution_id}/").content.decode()
    assert "Send the contract to Ana?" in page
    assert f'action="/approvals/{approval.pk}/decide/"' in page
    assert 'value="approve"' in page and 'value="reject"' in page and 'name="comment"' in page
    assert f"/executions/{execution_id}/resume/" not in page  # not a bare Resume

    response = client.post(
        f"/approvals/{approval.pk}/decide/",
        {"decision": "approve", "comment": "Checked", "next": f"/executions/{execution_id}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/executions/{execution_id}/"
    assert WorkflowApproval.objects.get(pk=approval.pk).comment == "Checked"
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    outside = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "approve", "next": "https://evil.example/"})
    assert outside.get("Location", "") != "https://evil.example/"
