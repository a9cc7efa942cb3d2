"""The lease sweep: re-enqueue steps whose worker died (SIGKILL, OOM, lost message).

Dramatiq's Redis broker only requeues a dead worker's messages after its
heartbeat timeout, and then only by chance, so docg keeps its own lease on every
pending or running step and resends those whose lease has passed.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from docg.executions import dispatch
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.context import definition_nodes
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.executions.state import RUNNABLE
from docg.workflows.graph import node_index

logger = logging.getLogger(__name__)


def reap_stuck(*, limit: int = 500) -> list[str]:
    """Resend every pending/running step whose lease expired; return their ids."""
    now = timezone.now()
    resent = []
    with transaction.atomic():
        stuck = list(
            ExecutionStep.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("execution__workflow_version")
            .filter(
                status__in=[StepStatus.PENDING, StepStatus.RUNNING],
                lease_expires_at__lt=now,
                execution__status__in=RUNNABLE,
            )
            .order_by("lease_expires_at")[:limit]
        )
        for step in stuck:
            nodes = definition_nodes(step.execution)
            queue = dispatch.node_queue(nodes[node_index(nodes, step.node_key)])
            if step.status == StepStatus.PENDING:
                # Not claimed yet: only the message was lost; give the resend a fresh lease.
                step.lease_expires_at = now + timedelta(seconds=settings.STEP_LEASE_SECONDS)
                step.save(update_fields=["lease_expires_at", "updated_at"])
            # A running step keeps its expired lease: the resent message may claim it.
            dispatch.step_enqueue(step_id=step.pk, queue=queue)
            resent.append(str(step.pk))
    if resent:
        logger.warning("Re-enqueued %d step(s) whose lease had expired: %s", len(resent), ", ".join(resent))
    restart_stalled(limit=limit)
    return resent


def restart_stalled(*, limit: int = 500) -> list[str]:
    """Resend the start of runs still queued a lease after their last change (start message lost,
    or the worker died during preflight); a start for a run that already began does nothing."""
    now = timezone.now()
    with transaction.atomic():
        ids = [
            str(pk)
            for pk in WorkflowExecution.objects.select_for_update(skip_locked=True)
            .filter(status=ExecutionStatus.QUEUED, updated_at__lt=now - timedelta(seconds=settings.STEP_LEASE_SECONDS))
            .order_by("updated_at")
            .values_list("pk", flat=True)[:limit]
        ]
        # Touched so that a run merely waiting behind a long queue is resent once per lease, not every sweep.
        WorkflowExecution.objects.filter(pk__in=ids).update(updated_at=now)
        for execution_id in ids:
            dispatch.execution_enqueue(execution_id=execution_id)
    if ids:
        logger.warning("Re-sent the start of %d run(s) still queued: %s", len(ids), ", ".join(ids))
    return ids


class ReaperThread(threading.Thread):
    """Runs the sweep every REAPER_INTERVAL_SECONDS inside a worker process until stopped."""

    def __init__(self) -> None:
        super().__init__(name="docg-reaper", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(settings.REAPER_INTERVAL_SECONDS):
            try:
                reap_stuck()
            except Exception:  # The sweep must outlive a database hiccup.
                logger.exception("The stuck-step sweep failed; it will run again")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
