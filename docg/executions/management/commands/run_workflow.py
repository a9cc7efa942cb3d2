"""`manage.py run_workflow <workflow_id> --data JSON [--dry-run] [--until PHASE] [--wait] [--timeout S]`."""

import json
import time
import uuid

import dramatiq
from django.core.management.base import BaseCommand, CommandError, CommandParser
from dramatiq.brokers.stub import StubBroker

from docg.audit.choices import ActorType
from docg.common.errors import DocgError
from docg.executions import phases
from docg.executions.choices import ExecutionStatus
from docg.executions.embedded import start_embedded_worker
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL
from docg.workflows.models import Workflow

# --wait stops at these: the run has ended, or it waits for a person.
STOPS = TERMINAL | {ExecutionStatus.NEEDS_REVIEW, ExecutionStatus.PAUSED}
POLL_SECONDS = 0.1


def _positive(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    help = "Start a run of a workflow's active version; with --wait, follow it until it stops and report it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow_id", help="The workflow's id (UUID).")
        parser.add_argument("--data", default="{}", help="trigger_data, as a JSON object (default: {}).")
        parser.add_argument("--dry-run", action="store_true", help="Render documents; send and sign nothing.")
        parser.add_argument(
            "--until",
            default="",
            choices=sorted(phase.value for phase in phases.STOPPABLE),
            help="Stop the run cleanly after this phase.",
        )
        parser.add_argument("--wait", action="store_true", help="Wait until the run ends or waits for a person.")
        parser.add_argument(
            "--timeout", type=_positive, default=60.0, help="With --wait: give up after this many seconds (60)."
        )

    def handle(self, *args, **options) -> None:
        trigger_data = self._trigger_data(options["data"])
        workflow = self._workflow(options["workflow_id"])
        wait = options["wait"]
        if isinstance(dramatiq.get_broker(), StubBroker):
            # Embedded mode: the queue lives in this process's memory, where no separate
            # worker can see it, so this process runs the actors and stays for the run.
            start_embedded_worker()
            wait = True
        try:
            execution = execution_start(
                workflow=workflow,
                trigger_data=trigger_data,
                actor_type=ActorType.SYSTEM,
                dry_run=options["dry_run"],
                until_phase=options["until"],
            )
        except DocgError as exc:
            raise CommandError(exc.message)
        self.stdout.write(str(execution.pk))
        if not wait:
            return
        execution = self._wait(execution.pk, options["timeout"])
        self._report(execution)
        if execution.status == ExecutionStatus.FAILED:
            raise CommandError(f"The run failed: {execution.last_error_human or execution.last_error_code}")

    def _trigger_data(self, raw: str) -> dict:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise CommandError(f"--data is not valid JSON ({exc}).")
        if not isinstance(data, dict):
            raise CommandError(f"--data must be a JSON object, not {type(data).__name__}.")
        return data

    def _workflow(self, raw: str) -> Workflow:
        try:
            workflow_id = uuid.UUID(raw)
        except ValueError:
            raise CommandError(f"{raw!r} is not a workflow id (a UUID).")
        workflow = Workflow.objects.filter(pk=workflow_id).first()
        if workflow is None:
            raise CommandError(f"There is no workflow with the id {workflow_id}.")
        return workflow

    def _wait(self, execution_id, timeout: float) -> WorkflowExecution:
        deadline = time.monotonic() + timeout
        while True:
            execution = WorkflowExecution.objects.get(pk=execution_id)
            if execution.status in STOPS:
                return execution
            if time.monotonic() >= deadline:
                self._report(execution)
                raise CommandError(
                    f"The run is still {execution.status} after {timeout:g} s; it goes on without this command."
                )
            time.sleep(POLL_SECONDS)

    def _report(self, execution: WorkflowExecution) -> None:
        write = self.stdout.write
        write(f"Status: {execution.status} ({execution.progress}%)")
        steps = execution.steps.order_by("index", "attempt")
        if steps:
            write("Steps:")
        for step in steps:
            attempt = f" (attempt {step.attempt})" if step.attempt > 1 else ""
            duration = f"{step.duration_ms} ms" if step.duration_ms is not None else "-"
            write(f"  {step.index:>3}  {step.node_key:<24} {step.status:<8} {duration}{attempt}")
        if execution.status == ExecutionStatus.NEEDS_REVIEW and execution.preflight_summary:
            write("Preflight found:")
            for issue in execution.preflight_summary.get("blocking", []):
                write(f"  {issue['code']} at {issue['node_key']}: {issue['message_human']}")
        if execution.last_error_code or execution.last_error_human:
            write(f"Last error: {execution.last_error_code}: {execution.last_error_human}")
