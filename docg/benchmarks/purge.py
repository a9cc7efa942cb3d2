"""`manage.py benchmark purge`: the retention purge of N runs (steps and logs included) on this database.

In a throwaway organization ("benchmark-purge-<timestamp>") the benchmark writes
N ended runs of one workflow, each with S steps and L log lines, in bulk, dated
past a one-day policy, plus one recent run that stays. Then it runs the purge
(docg.executions.retention) while a probe thread updates the recent run and
appends log lines to it every 20 ms, as a live run of the same organization
would. It reports the total time, runs per second, the longest batch
transaction (the longest any lock taken by the purge is held) and the probe's
longest write (how long a live run waited on the purge).
"""

import threading
import time
import uuid
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from docg.executions.choices import ExecutionStatus, LogDomain, LogLevel
from docg.executions.models import ExecutionLog, ExecutionStep, RetentionPolicy, WorkflowExecution
from docg.executions.retention import retention_purge
from docg.orgs.models import User
from docg.orgs.services import organization_create
from docg.workflows.services import workflow_activate, workflow_create

NODES = [
    {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
    {"key": "prepare", "kind": "action", "app": "core", "operation": "set_variables",
     "parameters": {"variables": {"a": 1}}},
]  # fmt: skip


class PurgeBenchmark:
    def __init__(self, *, executions: int, steps: int, logs: int, batch_size: int, write) -> None:
        self.executions, self.steps, self.logs, self.batch_size, self.write = executions, steps, logs, batch_size, write

    def run(self) -> dict:
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        owner = User.objects.create_user(email=f"benchmark-purge-{stamp}@example.com", password=uuid.uuid4().hex)
        organization = organization_create(name=f"benchmark-purge-{stamp}", owner=owner)
        workflow = workflow_create(organization=organization, by=owner, name="purge", nodes=NODES)
        workflow_activate(workflow=workflow, by=owner)
        workflow.refresh_from_db()
        started = time.monotonic()
        self._fill(organization, workflow)
        self.write(f"Wrote {self.executions} runs in {time.monotonic() - started:.1f} s.")
        keep = WorkflowExecution.objects.create(
            organization=organization, workflow=workflow, workflow_version=workflow.active_version
        )
        RetentionPolicy.objects.create(organization=organization, run_days=1)

        probe = _Probe(keep)
        probe.start()
        started = time.monotonic()
        report = retention_purge(organization=organization, batch_size=self.batch_size)
        elapsed = time.monotonic() - started
        probe.stop()
        figures = {
            "runs": report.runs,
            "steps": report.steps,
            "logs": report.logs,
            "seconds": round(elapsed, 2),
            "runs_per_second": round(report.runs / elapsed) if elapsed else None,
            "batches": report.batches,
            "batch_size": self.batch_size,
            "longest_batch_seconds": round(report.longest_batch_seconds, 3),
            "probe_writes": probe.count,
            "probe_longest_write_seconds": round(probe.longest, 3),
        }
        self.write(
            f"purge: {report.runs} runs, {report.steps} steps, {report.logs} log lines in {elapsed:.1f} s "
            f"({figures['runs_per_second']} runs/s), {report.batches} batches of {self.batch_size}; "
            f"longest batch (lock held) {report.longest_batch_seconds:.3f} s; a live run's longest write during "
            f"the purge {probe.longest:.3f} s over {probe.count} writes."
        )
        assert WorkflowExecution.objects.filter(pk=keep.pk).exists()
        ExecutionLog.objects.filter(execution=keep).delete()
        keep.delete()
        return figures

    def _fill(self, organization, workflow) -> None:
        old = timezone.now() - timedelta(days=30)
        chunk = 2000
        for offset in range(0, self.executions, chunk):
            runs = WorkflowExecution.objects.bulk_create(
                WorkflowExecution(
                    organization=organization,
                    workflow=workflow,
                    workflow_version=workflow.active_version,
                    status=ExecutionStatus.COMPLETED,
                    trigger_data={"n": offset + i},
                )
                for i in range(min(chunk, self.executions - offset))
            )
            WorkflowExecution.objects.filter(pk__in=[r.pk for r in runs]).update(created_at=old)
            steps = ExecutionStep.objects.bulk_create(
                ExecutionStep(organization=organization, execution=r, node_key=f"s{i}", index=i)
                for r in runs
                for i in range(self.steps)
            )
            now = timezone.now()
            ExecutionLog.objects.bulk_create(
                (
                    ExecutionLog(
                        organization=organization,
                        execution_id=s.execution_id,
                        step=s,
                        timestamp=now,
                        level=LogLevel.OK,
                        domain=LogDomain.STEP,
                        message_human="Step done.",
                    )
                    for s in steps
                    for _ in range(max(1, self.logs // max(1, self.steps)))
                ),
                batch_size=5000,
            )


class _Probe(threading.Thread):
    """A live run of the same organization: an update and a log line every 20 ms, timed."""

    def __init__(self, execution) -> None:
        super().__init__(name="purge-probe", daemon=True)
        self.execution = execution
        self.stopping = threading.Event()
        self.longest = 0.0
        self.count = 0

    def run(self) -> None:
        try:
            while not self.stopping.wait(0.02):
                started = time.monotonic()
                WorkflowExecution.objects.filter(pk=self.execution.pk).update(progress=self.count % 100)
                ExecutionLog.objects.create(
                    organization_id=self.execution.organization_id,
                    execution=self.execution,
                    timestamp=timezone.now(),
                    level=LogLevel.OK,
                    domain=LogDomain.STEP,
                    message_human="probe",
                )
                self.longest = max(self.longest, time.monotonic() - started)
                self.count += 1
        finally:
            close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
