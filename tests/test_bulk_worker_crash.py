"""A bulk retry of 1,000 failed runs survives a real worker (`manage.py rundramatiq`) killed halfway.

Each batch retries its runs and marks their items in one transaction, so the
SIGKILL rolls the batch in flight back whole; the sweep of the restarted worker
re-sends the operation once its lease has passed. Every run is retried exactly
once. The throughput and the kill-to-finish time are printed and written to
test-artifacts/bulk-retry.txt.
"""

import signal
import sys
import time
from pathlib import Path

import dramatiq
import pytest
from django.conf import settings
from django.db.models import Count

from docg.executions.choices import ExecutionStatus
from docg.executions.models import BulkOperation, BulkOperationItem, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.models import Organization
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_until
from tests.fixtures.processes import worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RUNS = 1000
WORKER_ENV = {"BULK_BATCH_SIZE": "25", "BULK_LEASE_SECONDS": "3", "REAPER_INTERVAL_SECONDS": "0.5"}


@pytest.fixture
def clean_broker():
    if not settings.REDIS_URL:
        pytest.skip("Worker processes need the Redis broker (REDIS_URL).")
    broker = dramatiq.get_broker()
    broker.flush_all()
    acks_before = set(broker.client.scan_iter(match="dramatiq:__acks__.*"))
    workers = []
    yield workers
    for worker in workers:
        worker.stop(signal.SIGKILL)  # Before pytest-django flushes the tables they use.
    broker.flush_all()
    ours = set(broker.client.scan_iter(match="dramatiq:__acks__.*")) - acks_before
    if ours:
        broker.client.delete(*ours)  # The killed worker's unacked messages must not leak into later tests.


def test_bulk_retry_of_1000_runs_survives_a_killed_worker(cast, clean_broker):
    Organization.objects.filter(pk=cast.acme.pk).update(plan="business")  # 2,000 runs this month.
    workflow = active_workflow(cast, PREPARE)
    workflow.refresh_from_db()
    parents = WorkflowExecution.objects.bulk_create(
        WorkflowExecution(
            organization=cast.acme,
            workflow=workflow,
            workflow_version=workflow.active_version,
            status=ExecutionStatus.FAILED,
            last_error_code="provider.down",
            trigger_data={"customer": f"c{i}"},
        )
        for i in range(RUNS)
    )

    first = worker_process("bulk-worker-1", **WORKER_ENV)
    clean_broker.append(first)
    started = time.monotonic()
    response = api_client_for(cast.alice).post(
        "/api/v1/executions/bulk",
        {"action": "retry", "filter": {"workflow": str(workflow.pk), "status": "failed"}},
        format="json",
    )
    assert response.status_code == 202, response.json()
    operation_id = response.json()["id"]

    def progress() -> int:
        return BulkOperation.objects.get(pk=operation_id).done

    try:
        wait_until(lambda: progress() >= RUNS * 0.4, timeout=180, what="the operation to reach 40%")
    except AssertionError as exc:
        pytest.fail(f"{exc}\n{first.log_tail()}")
    first.stop(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL
    killed_at = time.monotonic()
    at_kill = BulkOperation.objects.get(pk=operation_id)
    assert at_kill.status == "running" and at_kill.done < RUNS, "The operation ended before the kill."
    # Committed batches only: as many new runs as items marked done.
    assert WorkflowExecution.objects.filter(parent_execution__isnull=False).count() == at_kill.done

    second = worker_process("bulk-worker-2", **WORKER_ENV)
    clean_broker.append(second)
    try:
        wait_until(
            lambda: BulkOperation.objects.filter(pk=operation_id, status="completed").exists(),
            timeout=300,
            what="the operation to finish after the restart",
        )
    except AssertionError as exc:
        pytest.fail(f"{exc}\n{second.log_tail()}")
    finished = time.monotonic()

    operation = BulkOperation.objects.get(pk=operation_id)
    assert (operation.total, operation.done, operation.failed, operation.canceled) == (RUNS, RUNS, 0, 0)
    assert not BulkOperationItem.objects.filter(operation_id=operation_id).exclude(status="done").exists()
    children = WorkflowExecution.objects.filter(parent_execution__isnull=False)
    per_parent = children.values("parent_execution").annotate(n=Count("id"))
    assert per_parent.count() == RUNS, "A run was not retried."
    assert not per_parent.filter(n__gt=1).exists(), "A run was retried twice."
    assert {str(p) for p in children.values_list("parent_execution", flat=True)} == {str(p.pk) for p in parents}
    results = set(
        BulkOperationItem.objects.filter(operation_id=operation_id).values_list("result_execution", flat=True)
    )
    assert results == set(children.values_list("pk", flat=True))

    line = (
        f"bulk-retry: {RUNS} runs retried exactly once in {finished - started:.1f} s "
        f"({RUNS / (finished - started):.0f} runs/s, batches of {WORKER_ENV['BULK_BATCH_SIZE']}); "
        f"worker SIGKILLed at {at_kill.done}/{RUNS}, finished {finished - killed_at:.1f} s later "
        f"(BULK_LEASE_SECONDS={WORKER_ENV['BULK_LEASE_SECONDS']})"
    )
    artifacts = Path(settings.BASE_DIR) / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "bulk-retry.txt").write_text(line + "\n")
    sys.stdout.write(f"\n{line}\n")
