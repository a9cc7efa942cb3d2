"""Events of a run on its stream, in order and in schema v1 (PRODUCT.md section 6)."""

import re

import pytest

from docg.executions.choices import ExecutionStatus
from docg.executions.control import approval_decide, execution_cancel
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowApproval
from docg.executions.streams import execution_key, get_streams, organization_key
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_for_status, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = {
    "schema_version",
    "event_type",
    "timestamp",
    "execution_id",
    "workflow_id",
    "organization_id",
    "correlation_id",
    "status",
    "progress",
    "current_step",
    "data",
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENDINGS = {"execution.completed", "execution.failed", "execution.canceled"}


def _events(execution, until: str | None = None) -> list[tuple[str, dict]]:
    """The execution's stream, once it holds `until` (by default: the terminal event)."""

    def read():
        entries = get_streams().read(execution_key(execution.pk))
        types = {e["event_type"] for _, e in entries}
        return entries if (until in types if until else types & ENDINGS) else None

    return wait_until(read, what=f"the events of {execution.pk}")


def _assert_schema_v1(entries, execution) -> None:
    ids = [entry_id for entry_id, _ in entries]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    progress = -1
    for _, event in entries:
        assert set(event) == FIELDS, event
        assert event["schema_version"] == 1
        assert TIMESTAMP.match(event["timestamp"]), event["timestamp"]
        assert event["execution_id"] == str(execution.pk)
        assert event["workflow_id"] == str(execution.workflow_id)
        assert event["organization_id"] == str(execution.organization_id)
        assert event["correlation_id"] == str(execution.correlation_id)
        assert event["status"] in ExecutionStatus.values
        assert isinstance(event["data"], dict)
        assert event["progress"] >= progress  # never goes back
        progress = event["progress"]
    timestamps = [event["timestamp"] for _, event in entries]
    assert timestamps == sorted(timestamps)


def test_a_run_publishes_its_events_in_order_in_schema_v1(cast, worker):
    workflow = active_workflow(
        cast,
        action("one", "set_variables", parameters={"variables": {"a": 1}}),
        action("two", "set_variables", parameters={"variables": {"b": 2}}),
    )
    execution = execution_start(workflow=workflow, trigger_data={"x": 1}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    entries = _events(done)
    _assert_schema_v1(entries, done)
    events = [event for _, event in entries]
    assert [e["event_type"] for e in events if e["event_type"] != "execution.progress"] == [
        "execution.created",
        "preflight.completed",
        "execution.status_changed",
        "step.started",
        "step.completed",
        "step.started",
        "step.completed",
        "execution.completed",
    ]
    by_type = {}
    for event in events:
        by_type.setdefault(event["event_type"], []).append(event)
    assert by_type["execution.created"][0]["status"] == "queued"
    assert by_type["preflight.completed"][0]["data"] == {"blocking": 0, "warnings": 0}
    assert by_type["execution.status_changed"][0]["status"] == "running"
    assert [e["data"]["node_key"] for e in by_type["step.started"]] == ["one", "two"]
    assert by_type["step.started"][1]["current_step"] == {
        "index": 2,
        "label": "two",
        "node_key": "two",
        "node_type": "core.set_variables",
    }
    last = events[-1]
    assert (last["status"], last["progress"], last["data"]) == ("completed", 100, {"reason": "end"})


def test_the_organization_stream_carries_creation_and_status_changes(cast, worker):
    workflow = active_workflow(cast, action("one", "set_variables", parameters={"variables": {"a": 1}}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    _events(wait_for_status(execution.pk, ExecutionStatus.COMPLETED))
    mine = [
        e["event_type"]
        for _, e in get_streams().read(organization_key(cast.acme.pk))
        if e["execution_id"] == str(execution.pk)
    ]
    assert mine == ["execution.created", "execution.status_changed", "execution.completed"]


def test_a_failed_step_publishes_step_failed_then_execution_failed(cast, worker):
    workflow = active_workflow(cast, action("boom", "fail", parameters={"code": "custom.broken"}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    entries = _events(wait_for_status(execution.pk, ExecutionStatus.FAILED))
    _assert_schema_v1(entries, execution)
    tail = [e for _, e in entries][-2:]
    assert [e["event_type"] for e in tail] == ["step.failed", "execution.failed"]
    assert tail[0]["data"]["error_code"] == "custom.broken"
    assert tail[0]["data"]["retrying"] is False
    assert tail[1]["status"] == "failed"


def test_approval_and_cancel_events(cast, worker):
    workflow = active_workflow(
        cast,
        action("ok", "approval", parameters={"message": "Go?"}),
        action("after", "set_variables", parameters={"variables": {}}),
    )
    approved = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_for_status(approved.pk, ExecutionStatus.PAUSED)
    approval = WorkflowApproval.objects.get(execution=approved)
    approval_decide(approval=approval, by=cast.alice, approved=True, comment="yes")
    entries = _events(wait_for_status(approved.pk, ExecutionStatus.COMPLETED))
    _assert_schema_v1(entries, approved)
    types = [e["event_type"] for _, e in entries]
    assert types.index("approval.requested") < types.index("approval.decided") < types.index("execution.completed")
    requested = next(e for _, e in entries if e["event_type"] == "approval.requested")
    assert (requested["data"]["approval_id"], requested["data"]["message"]) == (str(approval.pk), "Go?")

    canceled = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_for_status(canceled.pk, ExecutionStatus.PAUSED)
    execution_cancel(execution=canceled, by=cast.alice, reason="no")
    entries = _events(canceled)
    _assert_schema_v1(entries, canceled)
    last = entries[-1][1]
    assert (last["event_type"], last["status"], last["data"]) == ("execution.canceled", "canceled", {"reason": "no"})
