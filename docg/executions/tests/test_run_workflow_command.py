"""`manage.py run_workflow`: start a run from the shell and, with --wait, follow it."""

import json
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from docg.audit.models import AuditEvent
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.executions.tests.builders import FAIL, PREPARE, active_workflow
from docg.workflows.services import workflow_deactivate

workflow_of = active_workflow


def run(*args: str) -> str:
    out = StringIO()
    call_command("run_workflow", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_starts_a_run_as_the_system_and_prints_its_id(cast):
    workflow = workflow_of(cast, PREPARE)
    output = run(str(workflow.pk), "--data", json.dumps({"customer": "ana"}), "--dry-run", "--until", "render")
    execution = WorkflowExecution.objects.get()
    assert output.strip() == str(execution.pk)
    assert execution.status == ExecutionStatus.QUEUED
    assert execution.trigger_data == {"customer": "ana"}
    assert (execution.dry_run, execution.until_phase, execution.triggered_by) == (True, "render", None)
    started = AuditEvent.objects.get(target_id=str(execution.pk))
    assert (started.action, started.actor_type) == ("execution.started", "system")


@pytest.mark.django_db(transaction=True)
def test_it_waits_and_reports_status_progress_and_steps(cast, worker):
    workflow = workflow_of(cast, PREPARE)
    output = run(str(workflow.pk), "--data", '{"customer": "ana"}', "--wait", "--timeout", "15")
    execution = WorkflowExecution.objects.get()
    assert execution.status == ExecutionStatus.COMPLETED
    lines = output.splitlines()
    assert lines[0] == str(execution.pk)
    assert "Status: completed (100%)" in lines
    [prepare] = [line for line in lines if "prepare" in line]
    assert prepare.split()[1:3] == ["prepare", "success"]
    assert prepare.rstrip().endswith("ms")
    assert "Last error" not in output


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_prints_the_last_error_and_exits_1(cast, worker):
    workflow = workflow_of(cast, FAIL)
    out = StringIO()
    with pytest.raises(CommandError, match="The customer is blocked") as caught:
        call_command("run_workflow", str(workflow.pk), "--wait", stdout=out)
    assert caught.value.returncode == 1
    assert "Status: failed" in out.getvalue()
    assert "Last error: data.invalid: The customer is blocked." in out.getvalue()
    assert any(line.split()[1:3] == ["check", "failure"] for line in out.getvalue().splitlines()[1:] if line.strip())


@pytest.mark.django_db(transaction=True)
def test_it_stops_waiting_at_needs_review_and_names_the_problem(cast, worker):
    node = {**PREPARE, "parameters": {"variables": {"email": "{{ trigger.email }}"}}}
    output = run(str(workflow_of(cast, node).pk), "--wait")
    assert "Status: needs_review" in output
    assert "data.unresolved_variables at prepare" in output
    assert "trigger.email" in output


@pytest.mark.django_db
def test_it_gives_up_waiting_at_the_timeout(cast):
    # No worker here: the run stays queued.
    workflow = workflow_of(cast, PREPARE)
    with pytest.raises(CommandError, match=r"still queued after 0\.2 s"):
        run(str(workflow.pk), "--wait", "--timeout", "0.2")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "--data is not valid JSON"),
        ("[1, 2]", "--data must be a JSON object, not list"),
        ('"text"', "--data must be a JSON object, not str"),
    ],
)
def test_bad_data_is_one_clear_sentence(cast, data, message):
    workflow = workflow_of(cast, PREPARE)
    with pytest.raises(CommandError, match=message):
        run(str(workflow.pk), "--data", data)
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_unknown_or_malformed_workflow_id_is_refused(cast):
    missing = uuid.uuid4()
    with pytest.raises(CommandError, match=f"There is no workflow with the id {missing}"):
        run(str(missing))
    with pytest.raises(CommandError, match="'wf-1' is not a workflow id"):
        run("wf-1")


@pytest.mark.django_db
def test_inactive_workflow_is_refused(cast):
    with pytest.raises(CommandError, match="not active"):
        run(str(workflow_of(cast, PREPARE, activate=False).pk))
    deactivated = workflow_of(cast, PREPARE)
    workflow_deactivate(workflow=deactivated, by=cast.alice)
    with pytest.raises(CommandError, match="not active"):
        run(str(deactivated.pk))
    assert not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_oversized_data_and_bad_options_are_refused(cast, settings):
    settings.MAX_TRIGGER_DATA_BYTES = 100
    workflow = workflow_of(cast, PREPARE)
    with pytest.raises(CommandError, match="the limit is 100"):
        run(str(workflow.pk), "--data", json.dumps({"blob": "x" * 200}))
    with pytest.raises(CommandError, match="invalid choice"):
        run(str(workflow.pk), "--until", "signature")
    with pytest.raises(CommandError, match="--timeout"):
        run(str(workflow.pk), "--timeout", "-1")
    assert not WorkflowExecution.objects.exists()
