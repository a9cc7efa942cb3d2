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
    on Redis: there, the due pending steps and queued runs are resent too; a duplicate
    finds its step claimed or done, or its run started, and does nothing. RabbitMQ gives
    them back at once by itself.
    """
    if not heartbeat.workers_dead():
        return []
    now = timezone.now()
    resent = []
    with transaction.atomic():
        # Late AND without its liveness lock: a worker merely overloaded (or paused) keeps its steps.
        dead = heartbeat.workers_dead(WorkerHeartbeat.objects.select_for_update(skip_locked=True))
        if not dead:
            return []
        last_beat = max(worker.beat_at for worker in dead)
        running = (
            ExecutionStep.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("execution__workflow_version")
            .filter(execution__status__in=RUNNABLE, status=StepStatus.RUNNING, worker_id__in=[w.pk for w in dead])
        )
        for step in running[:limit]:
            step.lease_expires_at = now  # expired: the resent message's claim takes it over
            step.save(update_fields=["lease_expires_at", "updated_at"])
            _step_resend(step)
            resent.append(str(step.pk))
        unstarted, queued = [], []
        if not _broker_requeues_at_once():
            unstarted, queued = _resend_unstarted(created_before=last_beat, limit=limit)
        resent += unstarted
        # A worker is done with only when none of its running steps is left: one another transaction held
        # (skip_locked) or one past `limit` is taken over by the next sweep, not left to its lease.
        left = set(
            ExecutionStep.objects.filter(
                execution__status__in=RUNNABLE, status=StepStatus.RUNNING, worker_id__in=[w.pk for w in dead]
            )
            .exclude(pk__in=resent)
            .values_list("worker_id", flat=True)
        )
        WorkerHeartbeat.objects.filter(pk__in=[worker.pk for worker in dead if worker.pk not in left]).delete()
    logger.warning(
        "Worker(s) %s stopped beating: resent %d step(s) and %d queued run(s)",
        ", ".join(f"{worker.hostname}:{worker.pid}" for worker in dead),
        len(resent),
        len(queued),
    )
    return resent


def pending_resend(*, execution_id=None, step_id=None) -> list[str]:
    """Send again the due pending steps of a run (named, or by one of its steps); return their ids.

    For a transaction retried after its connection broke, that finds its work already done: its first
    try committed and only the answer was lost, with the step it was to run right here (an inline
    chain's next step, a run's first). That step would otherwise wait for its lease. A duplicate
    message finds its step claimed or done and does nothing.
    """
    if execution_id is None:
        execution_id = ExecutionStep.objects.filter(pk=step_id).values_list("execution_id", flat=True).first()
    now = timezone.now()
    with transaction.atomic():
        due = list(
            ExecutionStep.objects.select_related("execution__workflow_version").filter(
                execution_id=execution_id,
                execution__status__in=RUNNABLE,
                status=StepStatus.PENDING,
                lease_expires_at__lte=now + timedelta(seconds=settings.STEP_LEASE_SECONDS),
            )
        )
        for step in due:
            _step_resend(step)
    if due:
        logger.warning("A commit's answer was lost: resent run %s's pending step(s)", execution_id)
    return [str(step.pk) for step in due]


def reap_unheld(*, worker, held: set[str]) -> list[str]:
    """Take back the steps claimed by this worker process (`worker`, its heartbeat id) that none of its
    threads holds (`held`, docg.executions.leases.keeper); return their ids.

    A claim whose every retry failed (the database away longer than DB_RETRY_SECONDS) may still have
    committed: its step is `running` under this live worker, whose heartbeat keeps it from being taken
    over, and nobody runs it. Only claims older than a heartbeat timeout count, so a claim that has just
    committed and is about to be held is left alone.
    """
    if worker is None:
        return []
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS)
    resent = []
    with transaction.atomic():
        running = (
            ExecutionStep.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("execution__workflow_version")
            .filter(execution__status__in=RUNNABLE, status=StepStatus.RUNNING, worker_id=worker, updated_at__lt=cutoff)
            .exclude(pk__in=held)
        )
        for step in running:
            step.lease_expires_at = timezone.now()  # expired: the resent message's claim takes it over
            step.save(update_fields=["lease_expires_at", "updated_at"])
            _step_resend(step)
            resent.append(str(step.pk))
    if resent:
        logger.warning("Took back %d step(s) claimed by this worker that no thread ran: %s", len(resent), resent)
    return resent


def _broker_requeues_at_once() -> bool:
    """RabbitMQ hands a dead consumer's unacknowledged messages to another the moment its connection closes:
    resending every due pending step too would only double the queues in front of the orphaned steps."""
    return settings.BROKER_URL.split("://", 1)[0].lower() in ("amqp", "amqps")


def _step_resend(step: ExecutionStep) -> None:
    nodes = definition_nodes(step.execution)
    dispatch.step_enqueue(step_id=step.pk, queue=dispatch.node_queue(nodes[node_index(nodes, step.node_key)]))


def _resend_unstarted(*, created_before, limit: int) -> tuple[list[str], list[str]]:
    """Resend (caller's transaction) the due pending steps and the queued runs created before this moment."""
    now = timezone.now()
    pending = (
        ExecutionStep.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("execution__workflow_version")
        .filter(
            execution__status__in=RUNNABLE,
            status=StepStatus.PENDING,
            created_at__lt=created_before,
            # Due (not delayed): a pending step's lease is its due time plus a lease.
            lease_expires_at__lte=now + timedelta(seconds=settings.STEP_LEASE_SECONDS),
        )
        .order_by("created_at")[:limit]
    )
    steps = []
    for step in pending:
        _step_resend(step)
        steps.append(str(step.pk))
    queued = [
        str(pk)
        for pk in WorkflowExecution.objects.select_for_update(skip_locked=True)
        .filter(status=ExecutionStatus.QUEUED, created_at__lt=created_before)
        .values_list("pk", flat=True)[:limit]
    ]
    for execution_id in queued:
        dispatch.execution_enqueue(execution_id=execution_id)
    return steps, queued


# A key in the broker's Redis: missing means Redis lost its data (restarted empty), and every message with it.
BROKER_MARK = "docg:broker:alive"


def reap_lost_broker(*, limit: int = 500) -> list[str]:
    """If the Redis broker came back empty, resend at once what its queues held (due pending steps, queued
    runs) instead of leaving them to their leases; returns the ids resent. RabbitMQ keeps its queues on disk."""
    import dramatiq

    client = getattr(dramatiq.get_broker(), "client", None)
    if client is None or not client.set(BROKER_MARK, "1", nx=True):
        return []  # not Redis, or the mark (and so the queues) survived
    with transaction.atomic():
        steps, queued = _resend_unstarted(created_before=timezone.now(), limit=limit)
    if steps or queued:
        logger.warning("The broker's Redis lost its data: resent %d step(s), %d queued run(s)", len(steps), len(queued))
    return steps + queued


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
