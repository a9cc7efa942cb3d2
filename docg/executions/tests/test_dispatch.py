"""Engine messages: sent after commit only, and the inline and captured modes tests and the demo use."""

import pytest
from django.db import transaction

from docg.connectors import registry
from docg.connectors.registry import App, Operation
from docg.connectors.runtime import ActionResult
from docg.executions import dispatch
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.tests.conftest import action, active_workflow


@pytest.fixture
def slow_app():
    """An action on the documents queue: a run that uses it hops from one queue to another."""
    app = App(slug="slowkit", name="Slow kit")
    app.action(
        Operation(
            name="make", label="Make", queue="documents", handler=lambda ctx, params: ActionResult(output={"made": 1})
        )
    )
    registry.register(app)
    yield app
    registry._APPS.pop("slowkit", None)


def _two_queue_workflow(cast):
    return active_workflow(
        cast,
        action("name", "set_variables", parameters={"variables": {"n": "x"}}),
        action("make", "make", app="slowkit"),
        action("after", "set_variables", parameters={"variables": {"m": "{{ steps.make.made }}"}}),
    )


def _ran_to_the_end(execution) -> None:
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED
    steps = execution.steps.order_by("index")
    assert [(s.node_key, s.status) for s in steps] == [
        ("start", StepStatus.SUCCESS),
        ("name", StepStatus.SUCCESS),
        ("make", StepStatus.SUCCESS),
        ("after", StepStatus.SUCCESS),
    ]


@pytest.mark.django_db(transaction=True)
def test_inline_runs_a_whole_run_here_across_queues_with_no_worker_and_no_broker_message(cast, slow_app):
    with dispatch.captured() as sent, dispatch.inline():
        execution = execution_start(workflow=_two_queue_workflow(cast), trigger_data={}, by=cast.alice)
        _ran_to_the_end(execution)  # already, before the block ends: each message ran when its commit came
    assert sent == []


@pytest.mark.django_db
def test_inline_inside_a_transaction_that_never_commits_runs_the_work_when_the_block_ends(cast, slow_app):
    # A test's transaction: the commit never comes, so the block's end runs what was sent in it.
    with dispatch.inline():
        execution = execution_start(workflow=_two_queue_workflow(cast), trigger_data={}, by=cast.alice)
        execution.refresh_from_db()
        assert execution.status == ExecutionStatus.QUEUED
    _ran_to_the_end(execution)


@pytest.mark.django_db(transaction=True)
def test_a_message_leaves_only_when_its_transaction_commits():
    with dispatch.captured() as sent:
        with transaction.atomic():
            dispatch.step_enqueue(step_id="kept", queue="documents", delay_ms=1500)
            assert sent == []
        with pytest.raises(RuntimeError), transaction.atomic():
            dispatch.execution_enqueue(execution_id="rolled-back")
            raise RuntimeError("rolled back")
    assert sent == [dispatch.Message("documents", "kept", 1500)]


@pytest.mark.django_db(transaction=True)
def test_a_capture_with_deliver_passes_the_message_on_to_the_mode_below():
    with dispatch.captured() as below, dispatch.captured(deliver=True) as seen:
        dispatch.step_enqueue(step_id="s", queue="emails")
    assert seen == below == [dispatch.Message("emails", "s", 0)]


def test_every_queue_and_the_start_have_an_actor():
    for queue in (dispatch.START, *dispatch.QUEUES):
        assert dispatch._route(queue).actor.actor_name.startswith("docg.")
    assert dispatch._route("no-such-queue") is dispatch._route(dispatch.DEFAULT_QUEUE)
