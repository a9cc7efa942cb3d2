import pytest

from docg.common.errors import DocgError
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.control import execution_cancel, execution_pause, execution_resume, execution_retry
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_for_status, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)


def _step(execution, node_key: str) -> ExecutionStep | None:
    return ExecutionStep.objects.filter(execution_id=execution.pk, node_key=node_key).order_by("-attempt").first()


def _drain(worker, *queues: str) -> None:
    """Wait until the broker delivered (and the worker handled) every message on these queues."""
    for queue in queues:
        worker.broker.join(queue, timeout=10_000)
    worker.join()


def test_cancel_during_a_delay_skips_the_delayed_step(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("wait", "delay", parameters={"seconds": 1}),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_until(lambda: _step(execution, "after"), what="the delayed step to be scheduled")

    canceled = execution_cancel(execution=execution, by=cast.alice, reason="Not needed any more")
    assert canceled.status == ExecutionStatus.CANCELED
    _drain(worker, "default.DQ", "default")  # the delayed message arrives, and does nothing

    after = _step(execution, "after")
    assert (after.status, after.started_at, after.data_out) == (StepStatus.SKIPPED, None, None)
    assert testkit.counts["after"] == 0
    assert wait_for_status(execution.pk, *DONE).status == ExecutionStatus.CANCELED


def test_cancel_during_a_running_step_discards_its_result_and_starts_nothing_more(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("held", "block", app="testkit"),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    assert testkit.started.wait(5)
    assert _step(execution, "held").status == StepStatus.RUNNING

    execution_cancel(execution=execution, by=cast.alice, reason="Stop")
    testkit.release.set()
    held = wait_until(
        lambda: (s := _step(execution, "held")).status != StepStatus.RUNNING and s, what="the held step to end"
    )
    assert (held.status, held.data_out) == (StepStatus.SKIPPED, None)
    assert "discarded" in held.error_tech["skipped"]
    assert testkit.counts["block"] == 1  # it ran to its end, but its result counts for nothing
    _drain(worker, "default")
    assert _step(execution, "after") is None
    assert testkit.counts["after"] == 0
    assert wait_for_status(execution.pk, *DONE).status == ExecutionStatus.CANCELED


def test_pause_holds_the_next_step_until_resume(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("held", "block", app="testkit"),
        action("after", "count", app="testkit", parameters={"name": "after"}),
        action("last", "count", app="testkit", parameters={"name": "last"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    assert testkit.started.wait(5)
    execution_pause(execution=execution, by=cast.alice)
    testkit.release.set()
    wait_until(lambda: _step(execution, "after"), what="the next step to be created")
    _drain(worker, "default")
    assert _step(execution, "after").status == StepStatus.PENDING
    assert testkit.counts["after"] == 0
    assert wait_for_status(execution.pk, ExecutionStatus.PAUSED)

    execution_resume(execution=execution, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    assert testkit.counts == {"block": 1, "after": 1, "last": 1}


def test_retry_from_step_reuses_the_outputs_of_earlier_steps(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("first", "count", app="testkit", parameters={"name": "first"}),
        action("flaky", "count", app="testkit", parameters={"name": "flaky", "fail": "{{ trigger.fail }}"}),
        action("summary", "set_variables", parameters={"variables": {"first": "{{ steps.first.count }}"}}),
    )
    parent = execution_start(workflow=workflow, trigger_data={"fail": True}, by=cast.alice)
    parent = wait_for_status(parent.pk, *DONE)
    assert (parent.status, parent.last_error_code) == (ExecutionStatus.FAILED, "testkit.failed")
    assert testkit.counts == {"first": 1, "flaky": 1}

    retry = execution_retry(execution=parent, by=cast.alice, trigger_data={"fail": False}, from_step="flaky")
    done = wait_for_status(retry.pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    assert done.parent_execution_id == parent.pk
    reused = _step(done, "first")
    original = _step(parent, "first")
    assert reused.data_in == {"reused_from_step": str(original.pk)}
    assert reused.data_out == original.data_out
    assert "reused_from_step" not in (_step(done, "flaky").data_in or {})
    assert _step(done, "summary").data_out == {"first": 1}
    assert testkit.counts == {"first": 1, "flaky": 2}  # the reused step did not run again


def test_retry_without_from_step_runs_every_step_again(cast, worker, testkit):
    workflow = active_workflow(cast, action("first", "count", app="testkit", parameters={"name": "first"}))
    parent = wait_for_status(execution_start(workflow=workflow, trigger_data={}, by=cast.alice).pk, *DONE)
    retry = execution_retry(execution=parent, by=cast.alice)
    assert wait_for_status(retry.pk, *DONE).status == ExecutionStatus.COMPLETED
    assert testkit.counts["first"] == 2


def test_control_calls_on_an_ended_run_are_conflicts(cast, worker):
    workflow = active_workflow(cast, action("x", "set_variables", parameters={"variables": {"a": 1}}))
    done = wait_for_status(execution_start(workflow=workflow, trigger_data={}, by=cast.alice).pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED
    for call in (execution_resume, execution_cancel, execution_pause):
        with pytest.raises(DocgError) as caught:
            call(execution=done, by=cast.alice)
        assert (caught.value.status_code, caught.value.code) == (409, "execution.illegal_transition")
    done.refresh_from_db()
    assert done.status == ExecutionStatus.COMPLETED


def test_retry_of_a_run_in_progress_is_a_conflict(cast, worker, testkit):
    workflow = active_workflow(cast, action("held", "block", app="testkit"))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    assert testkit.started.wait(5)
    with pytest.raises(DocgError) as caught:
        execution_retry(execution=execution, by=cast.alice)
    assert caught.value.status_code == 409
    testkit.release.set()
    assert wait_for_status(execution.pk, *DONE).status == ExecutionStatus.COMPLETED


def test_a_run_paused_before_it_began_starts_when_resumed(cast, testkit):
    from docg.executions import dispatch
    from docg.executions.engine import execution_begin, step_run

    workflow = active_workflow(cast, action("once", "count", app="testkit", parameters={"name": "once"}))
    with dispatch.captured() as sent:
        execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
        execution_pause(execution=execution, by=cast.alice)
        assert execution_begin(execution_id=execution.pk) is None  # the start message finds it paused

        resumed = execution_resume(execution=execution, by=cast.alice)
        assert resumed.status == ExecutionStatus.QUEUED
        assert [(m.queue, m.object_id) for m in sent] == [("start", str(execution.pk))] * 2
        step_id, queue = execution_begin(execution_id=execution.pk)
        step_run(step_id=step_id, queue=queue)
    assert wait_for_status(execution.pk, *DONE).status == ExecutionStatus.COMPLETED
    assert testkit.counts["once"] == 1


def test_resuming_during_a_delay_keeps_the_rest_of_the_delay(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("wait", "delay", parameters={"seconds": 1}),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_until(lambda: _step(execution, "after"), what="the delayed step to be scheduled")
    execution_pause(execution=execution, by=cast.alice)
    execution_resume(execution=execution, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    waited = (_step(done, "after").started_at - _step(done, "wait").finished_at).total_seconds()
    assert waited >= 1.0
    assert testkit.counts["after"] == 1
