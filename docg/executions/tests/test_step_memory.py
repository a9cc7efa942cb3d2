"""A provider step's memory: shared by its attempts, separate per node and per run, deleted with the run."""

import pytest

from docg.connectors.runtime import ActionContext
from docg.executions.engine import execution_start
from docg.executions.models import StepMemory
from docg.executions.step_memory import step_memory_of, step_memory_save
from docg.executions.tests.builders import action, active_workflow

pytestmark = pytest.mark.django_db


def _run(cast):
    workflow = active_workflow(cast, action("noop", "set_variables", parameters={"variables": {}}))
    return execution_start(workflow=workflow, trigger_data={}, by=cast.alice)


def _attempt(execution, node_key):
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": node_key},
        organization=execution.organization,
        dry_run=False,
        idempotency_key=f"{execution.pk}:{node_key}:1",
        correlation_id=str(execution.correlation_id),
        language="en",
        memory_load=lambda: step_memory_of(execution_id=execution.pk, node_key=node_key),
        memory_save=lambda memory: step_memory_save(execution=execution, node_key=node_key, memory=memory),
    )


def test_a_later_attempt_recalls_what_an_earlier_one_remembered(cast):
    run, other_run = _run(cast), _run(cast)
    first = _attempt(run, "crm")
    assert first.recall() == {}
    first.remember(file_id="9001")
    first.remember(note_id="3301")
    assert _attempt(run, "crm").recall() == {"file_id": "9001", "note_id": "3301"}
    # Another node of the run, or the same node of another run, starts empty.
    assert _attempt(run, "sign").recall() == {}
    assert _attempt(other_run, "crm").recall() == {}
    assert StepMemory.objects.get().organization_id == run.organization_id
    run.delete()
    assert not StepMemory.objects.exists()


def test_without_an_engine_memory_lives_as_long_as_the_context():
    ctx = ActionContext(
        execution=None,
        step=None,
        node={},
        organization=None,
        dry_run=False,
        idempotency_key="k",
        correlation_id="c",
        language="en",
    )
    ctx.remember(a=1)
    assert ctx.recall() == {"a": 1}
