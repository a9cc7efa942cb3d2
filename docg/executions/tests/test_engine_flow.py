import pytest

from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.testing import wait_for_status
from docg.workflows.services import workflow_activate, workflow_create

pytestmark = pytest.mark.django_db(transaction=True)


def _workflow(cast, nodes):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="flow", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


TRIGGER = {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"}


def test_linear_run_completes_with_outputs(cast, worker):
    workflow = _workflow(
        cast,
        [
            TRIGGER,
            {
                "key": "prepare",
                "kind": "action",
                "app": "core",
                "operation": "set_variables",
                "parameters": {
                    "variables": {"customer": "{{ trigger.customer | upper }}", "amount": "{{ trigger.amount * 2 }}"}
                },
            },
            {
                "key": "save",
                "kind": "action",
                "app": "core",
                "operation": "datastore_set",
                "parameters": {"key": "last", "value": "{{ steps.prepare.customer }}"},
            },
        ],
    )
    execution = execution_start(workflow=workflow, trigger_data={"customer": "ana", "amount": 21}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    steps = {s.node_key: s for s in done.steps.all()}
    assert steps["prepare"].data_out == {"customer": "ANA", "amount": 42}
    assert steps["save"].status == StepStatus.SUCCESS
    assert done.progress == 100
    assert "preflight" in done.phase_metrics
