"""The lease sweep: re-enqueue steps whose worker died (SIGKILL, OOM, lost message).

Dramatiq's Redis broker only requeues a dead worker's messages after its
heartbeat timeout, and then only by chance, so docg keeps its own lease on every
pending or running step and resends those whose lease has passed.

A dead worker is usually found sooner, by its heartbeat (docg.executions.heartbeat):
reap_orphans takes over its running steps at once and resends what it may have
been holding unstarted.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from docg.executions import dispatch, heartbeat
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.context import definition_nodes
from docg.executions.models import ExecutionStep, WorkerHeartbeat, WorkflowExecution
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


def reap_orphans(*, limit: int = 500) -> list[str]:
    """Take over the steps of workers whose heartbeat stopped; return the ids of the steps resent.

    Each dead worker is handled once (its row is locked, then deleted). Its running steps
    get an expired lease and are resent, so the next claim takes them over. The messages
    it had fetched but not started would come back only after the broker's own timeout
    (Redis) or at once (RabbitMQ): its due pending steps and its queued runs are resent
    too; a duplicate finds its step claimed or done, or its run started, and does nothing.
    """
    if not heartbeat.workers_dead():
        return []
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS)
    resent = []
    with transaction.atomic():
        dead = list(WorkerHeartbeat.objects.select_for_update(skip_locked=True).filter(beat_at__lt=cutoff))
        if not dead:
            return []
        last_beat = max(worker.beat_at for worker in dead)
        steps = (
            ExecutionStep.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("execution__workflow_version")
            .filter(execution__status__in=RUNNABLE)
        )
        running = steps.filter(status=StepStatus.RUNNING, worker_id__in=[worker.pk for worker in dead])
        # Due (not delayed: a pending step's lease is its due time plus a lease) and older than the last beat.
        pending = steps.filter(
            status=StepStatus.PENDING,
            created_at__lt=last_beat,
            lease_expires_at__lte=now + timedelta(seconds=settings.STEP_LEASE_SECONDS),
        )
        for step in [*running[:limit], *pending.order_by("created_at")[:limit]]:
            if step.status == StepStatus.RUNNING:
                step.lease_expires_at = now  # expired: the resent message's claim takes it over
                step.save(update_fields=["lease_expires_at", "updated_at"])
            nodes = definition_nodes(step.execution)
            dispatch.step_enqueue(step_id=step.pk, queue=dispatch.node_queue(nodes[node_index(nodes, step.node_key)]))
            resent.append(str(step.pk))
        queued = list(
            WorkflowExecution.objects.select_for_update(skip_locked=True)
            .filter(status=ExecutionStatus.QUEUED, created_at__lt=last_beat)
            .values_list("pk", flat=True)[:limit]
        )
        for execution_id in queued:
            dispatch.execution_enqueue(execution_id=execution_id)
        WorkerHeartbeat.objects.filter(pk__in=[worker.pk for worker in dead]).delete()
    logger.warning(
        "Worker(s) %s stopped beating: resent %d step(s) and %d queued run(s)",
        ", ".join(f"{worker.hostname}:{worker.pid}" for worker in dead),
        len(resent),
        len(queued),
    )
    return resent


class ReaperThread(threading.Thread):
    """Runs the sweep inside a worker process right after boot (a restarted worker recovers what its
    predecessor left at once), then every REAPER_INTERVAL_SECONDS until stopped."""

    def __init__(self) -> None:
        super().__init__(name="docg-reaper", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        wait = 0.0
        while not self.stopping.wait(wait):
            wait = settings.REAPER_INTERVAL_SECONDS
            try:
                reap_stuck()
            except Exception:  # The sweep must outlive a database hiccup.
                logger.exception("The stuck-step sweep failed; it will run again")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
