import threading

import pytest
from django.db import connection

from docg.common.errors import DocgError
from docg.executions import dispatch
from docg.executions.choices import ApprovalStatus, ExecutionStatus, StepStatus
from docg.executions.control import approval_decide, execution_resume
from docg.executions.engine import execution_begin, execution_start, step_run
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.tests.conftest import TRIGGER as TRIGGER_NODE
from docg.executions.tests.conftest import action, active_workflow
from docg.workflows.models import WorkflowDatastore
from tests.fixtures.engine import wait_for_status, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)
NOOP = action("noop", "set_variables", parameters={"variables": {}})


def _steps(execution) -> list[ExecutionStep]:
    return list(ExecutionStep.objects.filter(execution_id=execution.pk).order_by("index", "attempt"))


def _finished(execution, status=ExecutionStatus.COMPLETED):
    done = wait_for_status(execution.pk, *DONE)
    assert done.status == status, (done.last_error_code, done.last_error_tech)
    return done


def test_linear_run_completes_with_outputs(cast, worker):
    workflow = active_workflow(
        cast,
        action(
            "prepare",
            "set_variables",
            parameters={
                "variables": {"customer": "{{ trigger.customer | upper }}", "amount": "{{ trigger.amount * 2 }}"}
            },
        ),
        action("save", "datastore_set", parameters={"key": "last", "value": "{{ steps.prepare.customer }}"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={"customer": "ana", "amount": 21}, by=cast.alice)
    done = _finished(execution)
    steps = {s.node_key: s for s in done.steps.all()}
    assert steps["prepare"].data_out == {"customer": "ANA", "amount": 42}
    assert steps["save"].status == StepStatus.SUCCESS
    assert done.progress == 100
    assert "preflight" in done.phase_metrics


def _branching(cast):
    return active_workflow(
        cast,
        action(
            "route",
            "branch",
            branches=[
                {"when": "trigger.amount > 100", "next": "big"},
                {"when": "trigger.amount > 10", "next": "medium"},
            ],
            **{"else": "small"},
        ),
        action("big", "set_variables", parameters={"variables": {"size": "big"}}, next="done"),
        action("medium", "set_variables", parameters={"variables": {"size": "medium"}}, next="done"),
        action("small", "set_variables", parameters={"variables": {"size": "small"}}, next="done"),
        action("done", "set_variables", parameters={"variables": {"after": "{{ trigger.amount }}"}}),
    )


@pytest.mark.parametrize(("amount", "taken", "branch"), [(500, "big", 0), (50, "medium", 1), (5, "small", "else")])
def test_branch_follows_exactly_one_path(cast, worker, amount, taken, branch):
    execution = execution_start(workflow=_branching(cast), trigger_data={"amount": amount}, by=cast.alice)
    done = _finished(execution)
    steps = {s.node_key: s for s in _steps(done)}
    assert list(steps) == ["start", "route", taken, "done"]
    assert steps["route"].data_out == {"branch": branch, "next": taken}
    assert steps[taken].data_out == {"size": taken}
    assert steps["done"].data_out == {"after": amount}


def test_filter_false_completes_quietly_and_never_creates_later_steps(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("only_big", "filter", parameters={"condition": "{{ trigger.amount > 100 }}"}),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={"amount": 5}, by=cast.alice)
    done = _finished(execution)
    assert [s.node_key for s in _steps(done)] == ["start", "only_big"]
    assert _steps(done)[-1].data_out == {"passed": False}
    assert (done.progress, done.last_error_code) == (100, "")
    assert testkit.counts["after"] == 0

    passing = execution_start(workflow=workflow, trigger_data={"amount": 500}, by=cast.alice)
    _finished(passing)
    assert testkit.counts["after"] == 1


def test_delay_schedules_the_next_step_without_a_sleeping_worker(cast, worker, testkit):
    delayed = active_workflow(
        cast,
        action("wait", "delay", parameters={"seconds": 1}),
        action("after", "set_variables", parameters={"variables": {"done": True}}),
        name="delayed",
    )
    meeting = active_workflow(cast, action("meet", "meet", app="testkit"), name="meeting")
    execution = execution_start(workflow=delayed, trigger_data={}, by=cast.alice)
    wait_until(
        lambda: ExecutionStep.objects.filter(execution=execution, node_key="wait", status=StepStatus.SUCCESS).exists(),
        what="the delay step to finish",
    )
    # While the run waits, both worker threads are free: two runs that can only finish
    # together (a barrier of two) complete before the delayed step starts.
    others = [execution_start(workflow=meeting, trigger_data={}, by=cast.alice) for _ in range(2)]
    others = [_finished(other) for other in others]
    done = _finished(execution)
    steps = {s.node_key: s for s in _steps(done)}
    waited = (steps["after"].started_at - steps["wait"].finished_at).total_seconds()
    assert waited >= 1.0
    assert max(other.completed_at for other in others) < steps["after"].started_at


def test_approval_approved_completes_the_run(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("sign_off", "approval", parameters={"message": "Send it?", "approvers": ["bob@example.com"]}),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_for_status(execution.pk, ExecutionStatus.PAUSED)
    approval = WorkflowApproval.objects.get(execution=execution)
    assert (approval.status, approval.message, approval.approvers) == ("pending", "Send it?", ["bob@example.com"])
    assert testkit.counts["after"] == 0

    approval_decide(approval=approval, by=cast.bob, approved=True, comment="Go")
    done = _finished(execution)
    step = done.steps.get(node_key="sign_off")
    assert step.status == StepStatus.SUCCESS
    assert step.data_out["approved"] is True
    assert step.data_out["comment"] == "Go"
    assert testkit.counts["after"] == 1
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, cast.bob)


def test_approval_rejected_cancels_the_run(cast, worker, testkit):
    workflow = active_workflow(
        cast,
        action("sign_off", "approval", parameters={"message": "Send it?"}),
        action("after", "count", app="testkit", parameters={"name": "after"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    wait_for_status(execution.pk, ExecutionStatus.PAUSED)
    approval_decide(approval=WorkflowApproval.objects.get(execution=execution), by=cast.alice, approved=False)
    done = _finished(execution, ExecutionStatus.CANCELED)
    assert [s.node_key for s in _steps(done)] == ["start", "sign_off"]
    assert done.steps.get(node_key="sign_off").status == StepStatus.FAILURE
    assert testkit.counts["after"] == 0


def test_datastore_keeps_values_between_runs(cast, worker):
    workflow = active_workflow(
        cast,
        action("read", "datastore_get", parameters={"key": "last_customer"}),
        action("write", "datastore_set", parameters={"key": "last_customer", "value": "{{ trigger.customer }}"}),
    )
    first = _finished(execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice))
    assert first.steps.get(node_key="read").data_out == {"key": "last_customer", "found": False, "value": None}
    second = _finished(execution_start(workflow=workflow, trigger_data={"customer": "Bia"}, by=cast.alice))
    assert second.steps.get(node_key="read").data_out == {"key": "last_customer", "found": True, "value": "Ana"}
    assert WorkflowDatastore.objects.get(workflow=workflow, key="last_customer").value == "Bia"


def test_transient_failure_retries_up_to_max_attempts_then_fails(cast, worker, settings):
    settings.STEP_RETRY_BASE_SECONDS = 0.05
    workflow = active_workflow(
        cast, action("boom", "fail", parameters={"code": "http.timeout", "message": "Busy", "transient": True})
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    done = _finished(execution, ExecutionStatus.FAILED)
    attempts = [s for s in _steps(done) if s.node_key == "boom"]
    assert [(s.attempt, s.status, s.error_code) for s in attempts] == [
        (1, StepStatus.FAILURE, "http.timeout"),
        (2, StepStatus.FAILURE, "http.timeout"),
        (3, StepStatus.FAILURE, "http.timeout"),
    ]
    assert len({s.index for s in attempts}) == 1
    assert attempts[1].started_at >= attempts[0].finished_at
    assert done.last_error_code == "http.timeout"


@pytest.mark.parametrize(
    ("language", "human"),
    [
        ("pt-br", "O provedor está limitando as requisições; o docg tentará de novo mais tarde."),
        ("en", "The provider is limiting requests; docg will try again later."),
    ],
)
def test_permanent_failure_mirrors_the_error_on_the_execution(cast, worker, language, human):
    cast.acme.language = language
    cast.acme.save()
    workflow = active_workflow(cast, action("boom", "fail", parameters={"code": "rate_limit"}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    done = _finished(execution, ExecutionStatus.FAILED)
    [step] = [s for s in _steps(done) if s.node_key == "boom"]
    assert (step.status, step.attempt, step.error_code, step.error_human) == ("failure", 1, "rate_limit", human)
    assert step.error_tech["exception"] == "DocgError"
    assert (done.last_error_code, done.last_error_human, done.last_error_tech) == (
        "rate_limit",
        human,
        step.error_tech,
    )
    assert [(a["action"], a["node_key"]) for a in done.recommended_actions] == [("retry_later", "boom")]


def test_failure_without_a_mapped_code_recommends_nothing(cast, worker):
    workflow = active_workflow(cast, action("boom", "fail", parameters={"code": "custom.broken", "message": "No"}))
    done = _finished(execution_start(workflow=workflow, trigger_data={}, by=cast.alice), ExecutionStatus.FAILED)
    assert (done.last_error_code, done.last_error_human, done.recommended_actions) == ("custom.broken", "No", [])


def test_unresolvable_variable_needs_review_and_resume_with_changes_completes(cast, worker):
    workflow = active_workflow(
        cast,
        action(
            "prepare",
            "set_variables",
            parameters={"variables": {"to": "{{ trigger.customer.email }}", "name": "{{ trigger.customer.name }}"}},
        ),
    )
    execution = execution_start(workflow=workflow, trigger_data={"customer": {"name": "Ana"}}, by=cast.alice)
    review = wait_for_status(execution.pk, ExecutionStatus.NEEDS_REVIEW)
    assert review.last_error_code == "data.unresolved_variables"
    assert "trigger.customer.email" in review.last_error_human
    [issue] = review.preflight_summary["blocking"]
    assert (issue["code"], issue["missing"], issue["node_key"]) == (
        "data.unresolved_variables",
        ["trigger.customer.email"],
        "prepare",
    )
    assert [a["action"] for a in review.recommended_actions] == ["map_fields"]
    assert not review.steps.exists()

    execution_resume(execution=review, by=cast.alice, changes={"customer": {"email": "ana@example.com"}})
    done = _finished(execution)
    assert done.steps.get(node_key="prepare").data_out == {"to": "ana@example.com", "name": "Ana"}
    assert (done.recommended_actions, done.last_error_code) == ([], "")


def test_dry_run_sends_and_writes_nothing(cast, worker, settings, loopback_server):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    workflow = active_workflow(
        cast,
        action("notify", "http_request", parameters={"method": "POST", "url": loopback_server.url, "body": {"a": 1}}),
        action("remember", "datastore_set", parameters={"key": "k", "value": "v"}),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice, dry_run=True)
    done = _finished(execution)
    assert done.dry_run
    assert loopback_server.received == []
    assert not WorkflowDatastore.objects.filter(workflow=workflow).exists()
    assert all(s.data_out.get("dry_run") for s in _steps(done) if s.node_key != "start")


def test_until_phase_preflight_stops_after_preflight(cast, worker, testkit):
    workflow = active_workflow(cast, action("after", "count", app="testkit", parameters={"name": "after"}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice, until_phase="preflight")
    done = _finished(execution)
    assert done.progress == 100
    assert done.phase_metrics["preflight"]["duration_ms"] is not None
    assert not done.steps.exists()
    assert testkit.counts["after"] == 0


def test_duplicate_step_delivery_has_one_effect(cast, testkit):
    with dispatch.captured() as sent:
        workflow = active_workflow(
            cast,
            action("once", "count", app="testkit", parameters={"name": "once"}),
            action("held", "block", app="testkit"),
        )
        execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
        assert [(m.queue, m.object_id) for m in sent] == [("start", str(execution.pk))]
        step_id, queue = execution_begin(execution_id=execution.pk)

        held = step_run(step_id=step_id, queue=queue)
        assert held is not None  # the next step, to run right here
        assert step_run(step_id=step_id, queue=queue) is None  # the same message again
        assert testkit.counts["once"] == 1

        # A duplicate that arrives while the first delivery is still running does nothing either.
        def deliver():
            try:
                step_run(step_id=held[0], queue=held[1])
            finally:
                connection.close()

        first = threading.Thread(target=deliver)
        first.start()
        assert testkit.started.wait(5)
        assert step_run(step_id=held[0], queue=held[1]) is None
        testkit.release.set()
        first.join(5)
        assert testkit.counts["block"] == 1
        assert step_run(step_id=held[0], queue=held[1]) is None
        assert testkit.counts == {"once": 1, "block": 1}
        done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED)
        assert [(s.node_key, s.status) for s in _steps(done)] == [
            ("start", "success"),
            ("once", "success"),
            ("held", "success"),
        ]


def test_redelivered_message_through_the_broker_has_no_second_effect(cast, worker, testkit):
    workflow = active_workflow(cast, action("once", "count", app="testkit", parameters={"name": "once"}))
    done = _finished(execution_start(workflow=workflow, trigger_data={}, by=cast.alice))
    step = done.steps.get(node_key="once")
    dispatch.step_enqueue(step_id=step.pk, queue="default")
    dispatch.step_enqueue(step_id=step.pk, queue="default")
    worker.broker.join("default", timeout=5000)
    worker.join()
    assert testkit.counts["once"] == 1
    assert ExecutionStep.objects.filter(execution=done).count() == 2


def test_a_parameter_that_is_not_json_data_fails_the_step_once(cast, worker):
    workflow = active_workflow(cast, action("odd", "set_variables", parameters={"variables": {"r": "{{ range(3) }}"}}))
    done = _finished(execution_start(workflow=workflow, trigger_data={}, by=cast.alice), ExecutionStatus.FAILED)
    [step] = [s for s in _steps(done) if s.node_key == "odd"]
    assert (step.status, step.error_code) == (StepStatus.FAILURE, "expression.failed")
    assert step.data_in == {"variables": {"r": "{{ range(3) }}"}}  # what the node said, since it could not be stored


def test_trigger_fields_named_like_dict_methods_are_data(cast, worker):
    workflow = active_workflow(
        cast, action("sum", "set_variables", parameters={"variables": {"n": "{{ trigger.items | length }}"}})
    )
    done = _finished(execution_start(workflow=workflow, trigger_data={"items": [1, 2, 3]}, by=cast.alice))
    assert done.steps.get(node_key="sum").data_out == {"n": 3}


# The refusals below need no worker: a plain test transaction is enough (and faster to undo).
@pytest.mark.django_db
def test_start_refuses_an_inactive_workflow(cast):
    from docg.workflows.services import workflow_create, workflow_deactivate

    draft = workflow_create(organization=cast.acme, by=cast.alice, name="draft", nodes=[TRIGGER_NODE, NOOP])
    with pytest.raises(DocgError) as caught:
        execution_start(workflow=draft, trigger_data={}, by=cast.alice)
    assert (caught.value.status_code, caught.value.code) == (409, "workflow.inactive")
    active = active_workflow(cast, NOOP)
    workflow_deactivate(workflow=active, by=cast.alice)
    with pytest.raises(DocgError):
        execution_start(workflow=active, trigger_data={}, by=cast.alice)
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("trigger_data", [[1, 2], "text", None, 3])
def test_start_refuses_trigger_data_that_is_not_an_object(cast, trigger_data):
    with pytest.raises(DocgError) as caught:
        execution_start(workflow=active_workflow(cast, NOOP), trigger_data=trigger_data, by=cast.alice)
    assert (caught.value.status_code, caught.value.code) == (400, "trigger_data.not_an_object")
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_start_refuses_huge_trigger_data(cast, settings):
    settings.MAX_TRIGGER_DATA_BYTES = 1000
    with pytest.raises(DocgError) as caught:
        execution_start(workflow=active_workflow(cast, NOOP), trigger_data={"blob": "x" * 2000}, by=cast.alice)
    assert (caught.value.status_code, caught.value.code) == (413, "trigger_data.too_large")
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_start_refuses_an_unknown_until_phase(cast):
    with pytest.raises(DocgError) as caught:
        execution_start(workflow=active_workflow(cast, NOOP), trigger_data={}, by=cast.alice, until_phase="later")
    assert caught.value.code == "until_phase.invalid"


def test_a_run_whose_start_message_was_lost_is_restarted_by_the_sweep(cast, worker, settings):
    from datetime import timedelta

    from django.utils import timezone

    from docg.executions.reaper import reap_stuck

    with dispatch.captured() as lost:
        execution = execution_start(workflow=active_workflow(cast, NOOP), trigger_data={}, by=cast.alice)
    assert [m.object_id for m in lost] == [str(execution.pk)]

    assert reap_stuck() == []  # queued moments ago: its message may simply be on its way
    long_ago = timezone.now() - timedelta(seconds=settings.STEP_LEASE_SECONDS + 1)
    WorkflowExecution.objects.filter(pk=execution.pk).update(updated_at=long_ago)
    reap_stuck()
    assert _finished(execution).status == ExecutionStatus.COMPLETED


class _WorkerDied(BaseException):
    """Stands for the worker dying mid-step: not an action's error, nothing records it."""


def test_a_worker_dying_in_the_first_inline_steps_leaves_the_run_queued_for_the_sweep(cast, worker, settings):
    # Preflight, the trigger and the inline steps after it are one transaction: a death in a later
    # inline step rolls all of it back (no half-recorded run), and the sweep starts the run again.
    from datetime import timedelta

    from django.utils import timezone

    from docg.connectors import registry
    from docg.connectors.registry import App, Operation
    from docg.connectors.runtime import ActionResult
    from docg.executions.models import ExecutionLog
    from docg.executions.reaper import reap_stuck

    calls = []

    def dies_once(ctx, params):
        calls.append(ctx.step.node_key)
        if len(calls) == 1:
            raise _WorkerDied()
        return ActionResult(output={"survived": True})

    app = App(slug="crashkit", name="Crash kit")
    app.action(Operation(name="dies_once", label="Dies once", handler=dies_once, inline=True))
    registry.register(app)
    try:
        workflow = active_workflow(cast, NOOP, action("second", "dies_once", app="crashkit"))
        with dispatch.captured() as sent:
            execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
        with pytest.raises(_WorkerDied):
            execution_begin(execution_id=sent[0].object_id)
        queued = WorkflowExecution.objects.get(pk=execution.pk)
        assert queued.status == ExecutionStatus.QUEUED
        assert not ExecutionStep.objects.filter(execution_id=execution.pk).exists()
        assert list(ExecutionLog.objects.filter(execution_id=execution.pk).values_list("domain", flat=True)) == [
            "trigger"
        ]  # only "Run queued."

        long_ago = timezone.now() - timedelta(seconds=settings.STEP_LEASE_SECONDS + 1)
        WorkflowExecution.objects.filter(pk=execution.pk).update(updated_at=long_ago)
        reap_stuck()
        done = _finished(execution)
        assert [s.node_key for s in _steps(done)] == ["start", "noop", "second"]
        assert calls == ["second", "second"]
    finally:
        registry._APPS.pop("crashkit", None)
