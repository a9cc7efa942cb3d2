"""The runs API: start, run state, steps, logs, audit, preflight, control and approvals."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, StepStatus
from docg.executions.engine import execution_start
from docg.executions.errors import recommended_action
from docg.executions.logger import execution_log
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.tests.builders import APPROVAL, PREPARE, action, active_workflow
from docg.workflows.services import workflow_deactivate
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

AFTER = action("after", "set_variables", parameters={"variables": {"done": "yes"}})
EXECUTION_FIELDS = {
    "id",
    "workflow",
    "workflow_version",
    "status",
    "progress",
    "current_step",
    "last_error_code",
    "last_error_human",
    "last_error_tech",
    "preflight_summary",
    "delivery_state",
    "signature_state",
    "recommended_actions",
    "phase_metrics",
    "correlation_id",
    "trigger_data",
    "started_at",
    "completed_at",
    "created_at",
    "updated_at",
    "parent_execution",
    "dry_run",
    "until_phase",
}
transactional = pytest.mark.django_db(transaction=True)
RUN_STATE_QUERIES = 3


def start(client, workflow, **body):
    body.setdefault("trigger_data", {"customer": "ana"})
    return client.post(f"/api/v1/workflows/{workflow.pk}/executions", body, format="json")


def started(client, workflow, **body) -> str:
    response = start(client, workflow, **body)
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- start and run state -------------------------------------------------------------


@transactional
def test_start_answers_202_and_the_run_state_tells_the_whole_story(cast, worker, alice_api):
    workflow = active_workflow(cast, PREPARE)
    response = start(alice_api, workflow)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == ExecutionStatus.QUEUED
    assert set(body) >= EXECUTION_FIELDS
    wait_for_status(body["id"], ExecutionStatus.COMPLETED)

    run = alice_api.get(f"/api/v1/executions/{body['id']}").json()
    assert run["status"] == ExecutionStatus.COMPLETED
    assert run["progress"] == 100
    assert run["workflow"] == str(workflow.pk)
    assert run["workflow_version"] == 1
    assert run["current_step"]["node_key"] == "prepare"
    assert run["current_step"]["node_type"] == "core.set_variables"
    assert {"preflight", "trigger"} <= set(run["phase_metrics"])
    assert run["phase_metrics"]["preflight"]["duration_ms"] is not None
    assert run["preflight_summary"]["ok"] is True
    assert run["recommended_actions"] == []
    assert run["last_error_code"] == run["last_error_human"] == ""
    assert run["parent_execution"] is None
    assert run["trigger_data"] == {"customer": "ana"}
    uuid.UUID(run["correlation_id"])

    steps = alice_api.get(f"/api/v1/executions/{body['id']}/steps").json()["results"]
    assert [(s["node_key"], s["status"]) for s in steps] == [("start", "success"), ("prepare", "success")]
    prepare = steps[1]
    assert prepare["data_in"] == {"variables": {"customer": "ANA"}}
    assert prepare["data_out"] == {"customer": "ANA"}
    assert prepare["attempt"] == 1
    assert prepare["duration_ms"] is not None
    assert prepare["started_at"] and prepare["finished_at"]
    assert prepare["error_code"] == prepare["error_human"] == ""

    logs = alice_api.get(f"/api/v1/executions/{body['id']}/logs").json()["results"]
    messages = [line["message_human"] for line in logs]
    assert messages[0] == "Run queued."
    assert "Preflight passed." in messages
    assert messages[-1] == "Run completed."
    assert {line["correlation_id"] for line in logs} == {run["correlation_id"]}

    audit = alice_api.get(f"/api/v1/executions/{body['id']}/audit").json()["results"]
    assert [event["action"] for event in audit] == ["execution.started", "execution.completed"]
    assert audit[0]["actor_type"] == "user"
    assert audit[0]["actor_id"] == str(cast.alice.pk)
    assert audit[0]["metadata"]["correlation_id"] == run["correlation_id"]
    assert audit[0]["sequence"] < audit[1]["sequence"]

    preflight = alice_api.get(f"/api/v1/executions/{body['id']}/preflight").json()
    assert preflight == run["preflight_summary"]


@pytest.mark.django_db
def test_preflight_of_a_run_that_has_not_reached_it_is_409(cast, alice_api):
    execution_id = started(alice_api, active_workflow(cast, PREPARE))
    response = alice_api.get(f"/api/v1/executions/{execution_id}/preflight")
    assert response.status_code == 409
    assert error_code(response) == "preflight.not_run"


@transactional
def test_a_failed_step_shows_its_error_and_retry_links_a_new_run(cast, worker, alice_api):
    fail = {
        "key": "check",
        "kind": "action",
        "app": "core",
        "operation": "fail",
        "parameters": {"code": "data.invalid", "message": "The customer is blocked."},
    }
    workflow = active_workflow(cast, PREPARE, fail)
    execution_id = started(alice_api, workflow)
    wait_for_status(execution_id, ExecutionStatus.FAILED)

    run = alice_api.get(f"/api/v1/executions/{execution_id}").json()
    assert run["last_error_code"] == "data.invalid"
    assert run["last_error_human"] == "The customer is blocked."
    assert run["last_error_tech"]
    check = alice_api.get(f"/api/v1/executions/{execution_id}/steps").json()["results"][-1]
    assert (check["node_key"], check["status"], check["error_code"]) == ("check", "failure", "data.invalid")
    assert check["error_human"] == "The customer is blocked."
    assert check["error_tech"]
    errors = alice_api.get(f"/api/v1/executions/{execution_id}/logs", {"level": "error"}).json()["results"]
    assert [line["message_human"] for line in errors] == ["The customer is blocked."]

    response = alice_api.post(f"/api/v1/executions/{execution_id}/retry", {"from_step": "check"}, format="json")
    assert response.status_code == 202
    retry = response.json()
    assert retry["parent_execution"] == execution_id
    assert retry["id"] != execution_id
    wait_for_status(retry["id"], ExecutionStatus.FAILED)
    steps = {s["node_key"]: s for s in alice_api.get(f"/api/v1/executions/{retry['id']}/steps").json()["results"]}
    assert "reused_from_step" in steps["prepare"]["data_in"]
    audit = alice_api.get(f"/api/v1/executions/{retry['id']}/audit").json()["results"]
    assert audit[0]["action"] == "execution.retried"

    unknown = alice_api.post(f"/api/v1/executions/{execution_id}/retry", {"from_step": "nope"}, format="json")
    assert unknown.status_code == 400


@transactional
def test_until_phase_preflight_stops_after_preflight(cast, worker, alice_api):
    execution_id = started(alice_api, active_workflow(cast, PREPARE), until_phase="preflight", dry_run=True)
    done = wait_for_status(execution_id, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.COMPLETED
    assert (done.until_phase, done.dry_run) == ("preflight", True)
    assert not done.steps.exists()


# --- bad input -------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_workflow_is_404(cast, alice_api):
    response = alice_api.post(f"/api/v1/workflows/{uuid.uuid4()}/executions", {"trigger_data": {}}, format="json")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.django_db
def test_inactive_workflow_is_409(cast, alice_api):
    draft = active_workflow(cast, PREPARE, activate=False)
    response = start(alice_api, draft)
    assert response.status_code == 409
    assert error_code(response) == "workflow.inactive"
    deactivated = active_workflow(cast, PREPARE)
    workflow_deactivate(workflow=deactivated, by=cast.alice)
    assert start(alice_api, deactivated).status_code == 409
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("trigger_data", [["a"], "text", 3, None, True])
def test_trigger_data_that_is_not_an_object_is_400(cast, alice_api, trigger_data):
    response = start(alice_api, active_workflow(cast, PREPARE), trigger_data=trigger_data)
    assert response.status_code == 400
    assert "trigger_data" in response.json()["error"]["details"]
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ['{"trigger_data": {"v": "a\\u0000b"}}', '{"trigger_data": {"v": [NaN]}}'])
def test_trigger_data_postgres_cannot_store_is_400(cast, alice_api, raw):
    # Valid JSON to Python, refused by jsonb: without the check this would be a 500.
    workflow = active_workflow(cast, PREPARE)
    response = alice_api.post(f"/api/v1/workflows/{workflow.pk}/executions", raw, content_type="application/json")
    assert response.status_code == 400
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_trigger_data_over_the_limit_is_413(cast, alice_api, settings):
    settings.MAX_TRIGGER_DATA_BYTES = 2000
    response = start(alice_api, active_workflow(cast, PREPARE), trigger_data={"blob": "x" * 3000})
    assert response.status_code == 413
    assert error_code(response) == "trigger_data.too_large"
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_unknown_fields_and_bad_until_phase_are_400(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    assert start(alice_api, workflow, surprise=1).json()["error"]["details"] == {"surprise": ["Unknown field."]}
    assert start(alice_api, workflow, until_phase="signature").status_code == 400
    assert not WorkflowExecution.objects.exists()


@transactional
def test_unresolvable_variables_need_review_and_resume_with_changes_completes(cast, worker, alice_api):
    node = {**PREPARE, "parameters": {"variables": {"email": "{{ trigger.customer.email }}"}}}
    execution_id = started(alice_api, active_workflow(cast, node), trigger_data={"customer": {}})
    wait_for_status(execution_id, ExecutionStatus.NEEDS_REVIEW)

    run = alice_api.get(f"/api/v1/executions/{execution_id}").json()
    assert run["last_error_code"] == "data.unresolved_variables"
    [issue] = run["preflight_summary"]["blocking"]
    assert issue["code"] == "data.unresolved_variables"
    assert issue["missing"] == ["trigger.customer.email"]
    assert "trigger.customer.email" in issue["message_human"]
    assert [a["action"] for a in run["recommended_actions"]] == ["map_fields"]
    assert alice_api.get(f"/api/v1/executions/{execution_id}/preflight").json()["blocking"] == [issue]
    warned = alice_api.get(f"/api/v1/executions/{execution_id}/logs", {"domain": "preflight"}).json()["results"]
    assert [line["level"] for line in warned] == ["warn"]

    response = alice_api.post(
        f"/api/v1/executions/{execution_id}/resume",
        {"changes": {"customer": {"email": "ana@example.com"}}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    steps = alice_api.get(f"/api/v1/executions/{execution_id}/steps").json()["results"]
    assert steps[-1]["data_out"] == {"email": "ana@example.com"}
    actions = [e["action"] for e in alice_api.get(f"/api/v1/executions/{execution_id}/audit").json()["results"]]
    assert actions == ["execution.started", "execution.resumed", "execution.completed"]


# --- control ---------------------------------------------------------------------------


@transactional
def test_control_of_a_completed_run_is_409(cast, worker, alice_api):
    execution_id = started(alice_api, active_workflow(cast, PREPARE))
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    for verb in ("resume", "pause", "cancel"):
        response = alice_api.post(f"/api/v1/executions/{execution_id}/{verb}", {}, format="json")
        assert response.status_code == 409, verb
        assert error_code(response) == "execution.illegal_transition"
        assert response.json()["error"]["details"] == {"status": "completed"}
    assert WorkflowExecution.objects.get(pk=execution_id).status == ExecutionStatus.COMPLETED


@pytest.mark.django_db
def test_retry_of_a_run_that_has_not_ended_is_409(cast, alice_api):
    execution_id = started(alice_api, active_workflow(cast, PREPARE))
    response = alice_api.post(f"/api/v1/executions/{execution_id}/retry", {}, format="json")
    assert response.status_code == 409
    assert WorkflowExecution.objects.count() == 1


@transactional
def test_cancel_a_paused_run_stops_it_for_good(cast, worker, alice_api):
    execution_id = started(alice_api, active_workflow(cast, APPROVAL, AFTER))
    wait_for_status(execution_id, ExecutionStatus.PAUSED)

    response = alice_api.post(f"/api/v1/executions/{execution_id}/cancel", {"reason": "Wrong customer"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == ExecutionStatus.CANCELED
    assert response.json()["completed_at"]
    assert WorkflowApproval.objects.get(execution_id=execution_id).status == ApprovalStatus.REJECTED
    assert not ExecutionStep.objects.filter(execution_id=execution_id, node_key="after").exists()
    canceled = alice_api.get(f"/api/v1/executions/{execution_id}/audit").json()["results"][-1]
    assert (canceled["action"], canceled["metadata"]["reason"]) == ("execution.canceled", "Wrong customer")
    assert alice_api.post(f"/api/v1/executions/{execution_id}/cancel").status_code == 409


@pytest.mark.django_db
def test_viewer_reads_but_cannot_start_or_control(cast, alice_api, vera_api):
    workflow = active_workflow(cast, PREPARE)
    execution_id = started(alice_api, workflow)
    for url, body in [
        (f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {}}),
        (f"/api/v1/executions/{execution_id}/cancel", {"reason": "no"}),
        (f"/api/v1/executions/{execution_id}/pause", {}),
        (f"/api/v1/executions/{execution_id}/resume", {}),
        (f"/api/v1/executions/{execution_id}/retry", {}),
    ]:
        response = vera_api.post(url, body, format="json")
        assert response.status_code == 403, url
        assert error_code(response) == "permission_denied"
    assert WorkflowExecution.objects.get().status == ExecutionStatus.QUEUED
    assert vera_api.get(f"/api/v1/executions/{execution_id}").status_code == 200
    assert vera_api.get(f"/api/v1/executions/{execution_id}/logs").status_code == 200
    assert vera_api.get(f"/api/v1/workflows/{workflow.pk}/runs").json()["results"][0]["id"] == execution_id


# --- approvals -------------------------------------------------------------------------


@transactional
def test_approving_completes_the_run_and_a_second_decision_is_409(cast, worker, alice_api):
    execution_id = started(alice_api, active_workflow(cast, APPROVAL, AFTER))
    wait_for_status(execution_id, ExecutionStatus.PAUSED)

    approvals = alice_api.get("/api/v1/approvals", {"status": "pending"}).json()["results"]
    assert len(approvals) == 1
    approval = approvals[0]
    assert (approval["execution"], approval["node_key"]) == (execution_id, "review")
    assert approval["message"] == "Send the contract to ana?"
    assert alice_api.get(f"/api/v1/approvals/{approval['id']}").json()["status"] == "pending"

    response = alice_api.post(
        f"/api/v1/approvals/{approval['id']}/decide", {"approved": True, "comment": "Go"}, format="json"
    )
    assert response.status_code == 200
    decided = response.json()
    assert (decided["status"], decided["comment"], decided["decided_by"]) == ("approved", "Go", str(cast.alice.pk))
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    steps = {s["node_key"]: s for s in alice_api.get(f"/api/v1/executions/{execution_id}/steps").json()["results"]}
    assert steps["review"]["data_out"]["approved"] is True
    assert steps["after"]["status"] == StepStatus.SUCCESS

    again = alice_api.post(f"/api/v1/approvals/{approval['id']}/decide", {"approved": False}, format="json")
    assert again.status_code == 409
    assert error_code(again) == "approval.already_decided"
    assert alice_api.get("/api/v1/approvals", {"status": "pending"}).json()["results"] == []
    assert [a["id"] for a in alice_api.get("/api/v1/approvals").json()["results"]] == [approval["id"]]


@transactional
def test_rejecting_cancels_the_run(cast, worker, alice_api):
    execution_id = started(alice_api, active_workflow(cast, APPROVAL, AFTER))
    wait_for_status(execution_id, ExecutionStatus.PAUSED)
    approval = WorkflowApproval.objects.get(execution_id=execution_id)

    response = alice_api.post(f"/api/v1/approvals/{approval.pk}/decide", {"approved": False}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == ApprovalStatus.REJECTED
    run = alice_api.get(f"/api/v1/executions/{execution_id}").json()
    assert run["status"] == ExecutionStatus.CANCELED
    assert not ExecutionStep.objects.filter(execution_id=execution_id, node_key="after").exists()


@pytest.mark.django_db
def test_approvals_list_is_newest_first_and_validates_its_filter(cast, alice_api, vera_api):
    workflow = active_workflow(cast, APPROVAL)
    execution = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)
    old, new = (
        WorkflowApproval.objects.create(organization=cast.acme, execution=execution, node_key="review", message=m)
        for m in ("old", "new")
    )
    assert [a["message"] for a in alice_api.get("/api/v1/approvals").json()["results"]] == ["new", "old"]
    response = alice_api.get("/api/v1/approvals", {"status": "maybe"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]
    bad = alice_api.post(f"/api/v1/approvals/{old.pk}/decide", {"approved": "perhaps"}, format="json")
    assert bad.status_code == 400
    assert alice_api.post(f"/api/v1/approvals/{old.pk}/decide", {}, format="json").status_code == 400
    viewer = vera_api.post(f"/api/v1/approvals/{new.pk}/decide", {"approved": True}, format="json")
    assert viewer.status_code == 403
    assert set(WorkflowApproval.objects.values_list("status", flat=True)) == {ApprovalStatus.PENDING}


# --- lists and logs --------------------------------------------------------------------


@pytest.mark.django_db
def test_executions_list_filters_by_status_workflow_and_dates(cast, alice_api):
    first, second = active_workflow(cast, PREPARE), active_workflow(cast, PREPARE)
    a = WorkflowExecution.objects.create(organization=cast.acme, workflow=first, status=ExecutionStatus.FAILED)
    b = WorkflowExecution.objects.create(organization=cast.acme, workflow=second)
    old = timezone.now() - timedelta(days=3)
    WorkflowExecution.objects.filter(pk=a.pk).update(created_at=old)

    def ids(url, **query):
        response = alice_api.get(url, query)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids("/api/v1/executions") == [str(b.pk), str(a.pk)]
    assert ids("/api/v1/executions", status="failed") == [str(a.pk)]
    assert ids("/api/v1/executions", workflow=str(second.pk)) == [str(b.pk)]
    since = (old + timedelta(days=1)).isoformat()
    assert ids("/api/v1/executions", created_after=since) == [str(b.pk)]
    assert ids("/api/v1/executions", created_before=since) == [str(a.pk)]
    assert ids(f"/api/v1/workflows/{first.pk}/runs") == [str(a.pk)]
    assert ids(f"/api/v1/workflows/{second.pk}/runs", status="failed") == []
    assert ids(f"/api/v1/workflows/{first.pk}/runs", created_after=since) == []
    for query in ({"status": "lost"}, {"workflow": "nope"}, {"created_after": "yesterday"}):
        response = alice_api.get("/api/v1/executions", query)
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "validation_error"
    assert alice_api.get(f"/api/v1/workflows/{first.pk}/runs", {"status": "lost"}).status_code == 400
    # A summary in lists: the bulky JSON stays on the detail route.
    assert "trigger_data" not in alice_api.get("/api/v1/executions").json()["results"][0]


@pytest.mark.django_db
def test_logs_filter_by_level_domain_and_step_and_cap_the_page_at_100(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    execution = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)
    other = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)
    step = ExecutionStep.objects.create(organization=cast.acme, execution=execution, node_key="prepare", index=1)
    other_step = ExecutionStep.objects.create(organization=cast.acme, execution=other, node_key="prepare", index=1)
    for i in range(110):
        execution_log(execution=execution, level="ok", domain=LogDomain.STEP, message=f"line {i}")
    execution_log(execution=execution, level="error", domain=LogDomain.STEP, message="boom", step=step)
    execution_log(execution=execution, level="warn", domain=LogDomain.PREFLIGHT, message="careful")
    execution_log(execution=other, level="error", domain=LogDomain.STEP, message="elsewhere", step=other_step)
    url = f"/api/v1/executions/{execution.pk}/logs"

    def messages(**query):
        response = alice_api.get(url, query)
        assert response.status_code == 200, response.json()
        return [line["message_human"] for line in response.json()["results"]]

    assert messages(level="error") == ["boom"]
    assert messages(domain="preflight") == ["careful"]
    assert messages(step_id=str(step.pk)) == ["boom"]
    assert messages(level="warn", domain="step") == []
    assert messages(step_id=str(other_step.pk)) == []
    assert messages(limit=5) == [f"line {i}" for i in range(5)]

    page = alice_api.get(url, {"limit": 1000}).json()
    assert len(page["results"]) == 100
    assert page["results"][0]["message_human"] == "line 0"
    rest = alice_api.get(page["next"]).json()
    assert [line["message_human"] for line in rest["results"]] == [f"line {i}" for i in range(100, 110)] + [
        "boom",
        "careful",
    ]
    assert rest["next"] is None

    for query in ({"level": "fatal"}, {"domain": "space"}, {"step_id": "not-a-uuid"}):
        response = alice_api.get(url, query)
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert set(query) <= set(error["details"])
    assert alice_api.get(url, {"cursor": "garbage"}).status_code == 404


@pytest.mark.django_db
def test_audit_lists_only_this_runs_events_in_order(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    first, second = started(alice_api, workflow), started(alice_api, workflow)
    audit = alice_api.get(f"/api/v1/executions/{first}/audit", {"limit": 1}).json()
    assert [(e["action"], e["target_id"]) for e in audit["results"]] == [("execution.started", first)]
    assert audit["results"][0]["metadata"]["workflow_id"] == str(workflow.pk)
    assert audit["next"] is None
    assert alice_api.get(f"/api/v1/executions/{second}/audit").json()["results"][0]["target_id"] == second


# --- workflow preflight ----------------------------------------------------------------


@pytest.mark.django_db
def test_workflow_preflight_reports_without_creating_a_run(cast, alice_api, vera_api):
    node = {**PREPARE, "parameters": {"variables": {"email": "{{ trigger.email }}"}}}
    workflow = active_workflow(cast, node)
    url = f"/api/v1/workflows/{workflow.pk}/preflight"

    blocked = alice_api.post(url, {"trigger_data": {}}, format="json")
    assert blocked.status_code == 200
    report = blocked.json()
    assert report["ok"] is False
    assert [(i["code"], i["missing"]) for i in report["blocking"]] == [("data.unresolved_variables", ["trigger.email"])]
    assert report["groups"]["data"] == report["blocking"]
    assert [a["action"] for a in report["recommended_actions"]] == ["map_fields"]
    # No run exists yet: the action starts one with the fields added, it does not resume /executions/None/.
    [map_fields] = report["recommended_actions"]
    assert map_fields["endpoint"] == f"/api/v1/workflows/{workflow.pk}/executions"
    assert "None" not in str(report)
    assert "trigger data" in map_fields["description"]

    fine = vera_api.post(url, {"trigger_data": {"email": "a@example.com"}}, format="json")
    assert fine.status_code == 200
    assert fine.json()["ok"] is True
    assert alice_api.post(url, {"trigger_data": []}, format="json").status_code == 400
    assert not WorkflowExecution.objects.exists()

    draft = active_workflow(cast, node, activate=False)
    response = alice_api.post(f"/api/v1/workflows/{draft.pk}/preflight", {"trigger_data": {}}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "workflow.inactive"


# --- another organization --------------------------------------------------------------


@pytest.mark.django_db
def test_another_organization_gets_404_for_runs_and_approvals(cast, alice_api, charlie_api):
    workflow = active_workflow(cast, APPROVAL)
    execution_id = started(alice_api, workflow)
    step = ExecutionStep.objects.create(organization=cast.acme, execution_id=execution_id, node_key="review", index=1)
    approval = WorkflowApproval.objects.create(
        organization=cast.acme, execution_id=execution_id, step=step, node_key="review", message="OK?"
    )
    base = f"/api/v1/executions/{execution_id}"
    gets = [base, f"{base}/steps", f"{base}/logs", f"{base}/audit", f"{base}/preflight"]
    gets += [f"/api/v1/approvals/{approval.pk}", f"/api/v1/workflows/{workflow.pk}/runs"]
    posts = [f"{base}/{verb}" for verb in ("resume", "pause", "cancel", "retry")]
    posts += [f"/api/v1/approvals/{approval.pk}/decide", f"/api/v1/workflows/{workflow.pk}/executions"]
    posts += [f"/api/v1/workflows/{workflow.pk}/preflight"]
    for url in gets:
        response = charlie_api.get(url)
        assert response.status_code == 404, url
        assert error_code(response) == "not_found"
    for url in posts:
        response = charlie_api.post(url, {"approved": True, "trigger_data": {}}, format="json")
        assert response.status_code == 404, url
        assert error_code(response) == "not_found"
    assert charlie_api.get("/api/v1/executions").json()["results"] == []
    assert charlie_api.get("/api/v1/executions", {"workflow": str(workflow.pk)}).json()["results"] == []
    assert charlie_api.get("/api/v1/approvals").json()["results"] == []
    # Naming Acme in the header does not help: charlie is no member there.
    intruder = api_client_for(cast.charlie, cast.acme)
    assert intruder.get(base).status_code == 404
    assert WorkflowExecution.objects.get().status == ExecutionStatus.QUEUED
    assert WorkflowApproval.objects.get().status == ApprovalStatus.PENDING


@pytest.mark.django_db
def test_recommended_actions_and_step_types_follow_the_clients_language(cast, alice_api):
    node = {**PREPARE, "parameters": {"variables": {"email": "{{ trigger.email }}"}}}
    workflow = active_workflow(cast, node)
    url = f"/api/v1/workflows/{workflow.pk}/preflight"
    report = alice_api.post(url, {"trigger_data": {}}, format="json", HTTP_ACCEPT_LANGUAGE="pt-br").json()
    [map_fields] = report["recommended_actions"]
    assert map_fields["label"] == "Mapear campos"
    assert "dados do gatilho" in map_fields["description"]
    assert alice_api.post(url, {"trigger_data": {}}, format="json").json()["recommended_actions"][0]["label"] == (
        "Map fields"
    )

    execution = execution_start(workflow=workflow, trigger_data={"email": "a@example.com"}, by=cast.alice)
    WorkflowExecution.objects.filter(pk=execution.pk).update(
        current_step={"index": 1, "label": "prepare", "node_key": "prepare", "node_type": "core.set_variables"},
        recommended_actions=[recommended_action("oauth_expired", execution_id=execution.pk)],
    )
    run = alice_api.get(f"/api/v1/executions/{execution.pk}", HTTP_ACCEPT_LANGUAGE="pt-br").json()
    assert run["recommended_actions"][0]["label"] == "Reconectar"
    assert run["current_step"]["node_type"] == "core.set_variables"
    assert run["current_step"]["node_type_label"] == "Definir variáveis"


@pytest.mark.django_db
@pytest.mark.parametrize("steps", [1, 10])
def test_the_run_state_takes_the_same_few_queries_however_many_steps(cast, alice_api, django_assert_num_queries, steps):
    from docg.executions import dispatch

    workflow = active_workflow(
        cast, *[action(f"s{i}", "set_variables", parameters={"variables": {"i": i}}) for i in range(steps)]
    )
    with dispatch.inline():
        execution_id = started(alice_api, workflow)
    assert ExecutionStep.objects.filter(execution_id=execution_id).count() == steps + 1
    # The user, the membership that scopes the organization, the run with its version.
    with django_assert_num_queries(RUN_STATE_QUERIES):
        response = alice_api.get(f"/api/v1/executions/{execution_id}")
    assert response.json()["status"] == ExecutionStatus.COMPLETED


@pytest.mark.django_db
def test_the_run_state_read_with_an_api_key_takes_as_few_queries(cast, django_assert_num_queries):
    from rest_framework.test import APIClient

    from docg.executions import dispatch
    from docg.orgs.api_keys import api_key_create
    from docg.orgs.models import Membership

    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    _row, key = api_key_create(organization=cast.acme, by=owner, name="Zapier", role="viewer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    with dispatch.inline():
        execution_id = started(api_client_for(cast.alice, cast.acme), active_workflow(cast, AFTER))
    # The first call of the minute also records when the key was last used.
    assert client.get(f"/api/v1/executions/{execution_id}").status_code == 200
    # The key with its principal, the membership that scopes the organization, the run with its version.
    with django_assert_num_queries(RUN_STATE_QUERIES):
        response = client.get(f"/api/v1/executions/{execution_id}")
    assert response.json()["status"] == ExecutionStatus.COMPLETED
