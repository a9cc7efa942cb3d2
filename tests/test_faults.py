"""The fault suite: real worker processes (the Procfile's line), faults injected mid-run, and a
loopback provider that counts every call by Idempotency-Key.

Leases are long here (LEASE), so a recovery that waited for one would miss every
deadline below: each fault must be recovered from by its own mechanism (the
worker heartbeat, retrying on a fresh database connection, the outbox). The same
scenarios, full size and with default settings, are `manage.py benchmark faults`.
"""

import dramatiq
import pytest
from django.conf import settings

from docg.benchmarks.faults import CountingProvider, Workers, fault_nodes, run_fault, worker_env
from docg.executions.state import TERMINAL
from docg.workflows.services import workflow_activate, workflow_create
from tests.fixtures.processes import RedisServer, subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE = 30
FAST_HEARTBEAT = {
    "STEP_LEASE_SECONDS": str(LEASE),
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "WORKER_HEARTBEAT_TIMEOUT_SECONDS": "2",
}
CALL_SECONDS = 1.0


@pytest.fixture
def provider():
    instance = CountingProvider(delay=CALL_SECONDS)
    yield instance
    instance.stop()


@pytest.fixture
def workflow(cast, provider):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="faults", nodes=fault_nodes(provider.url))
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


@pytest.fixture
def broker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def _workers(count: int, **env: str) -> Workers:
    from pathlib import Path

    artifacts = Path(settings.BASE_DIR) / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    workers = Workers(subprocess_env(**worker_env(**FAST_HEARTBEAT, **env)), log_dir=str(artifacts))
    for _ in range(count):
        workers.start()
    return workers


def _explain(result, workers) -> str:
    return f"{result.row()} {result.notes}"


def test_it_resumes_a_killed_workers_steps_in_seconds_and_repeats_only_the_calls_in_flight(workflow, provider, broker):
    workers = _workers(2)
    try:
        result = run_fault(
            fault="worker-kill", workflow=workflow, provider=provider, workers=workers, runs=8, timeout=60
        )
    finally:
        workers.stop_all()
    print(result.row())
    assert (result.lost, result.stuck) == (0, 0), _explain(result, workers)
    assert result.resumed_seconds, "the kill orphaned no step: nothing was measured"
    # Heartbeat timeout (2 s) + a beat, far below the lease (30 s).
    assert max(result.resumed_seconds) < 8, _explain(result, workers)
    # Only the killed worker's calls in flight are repeated, once, with the same Idempotency-Key (calls are
    # counted by key); a step it had claimed but not yet called out for is not repeated at all.
    assert result.duplicated <= result.orphaned, _explain(result, workers)
    assert result.duplicates == len(result.duplicated), _explain(result, workers)


def test_a_paused_worker_is_not_taken_over_and_finishes_its_steps_once(workflow, provider, broker):
    """An overloaded machine can silence a worker's heartbeat for longer than the window: its liveness lock
    (held by its open database session) tells the others it is alive, so nobody repeats its calls."""
    import os
    import signal
    from datetime import timedelta

    from django.utils import timezone

    from docg.benchmarks.faults import start_runs, wait_for
    from docg.executions.choices import ExecutionStatus, StepStatus
    from docg.executions.models import ExecutionStep, WorkerHeartbeat, WorkflowExecution

    workers = _workers(2)
    try:
        wait_for(lambda: WorkerHeartbeat.objects.count() >= 2, timeout=60, what="the workers to beat")
        ids = start_runs(workflow, 6)
        running = ExecutionStep.objects.filter(status=StepStatus.RUNNING)
        victim, beat_ids = wait_for(
            lambda: next(
                ((p, b) for p in workers.alive() if running.filter(worker_id__in=(b := workers.heartbeat_ids(p)))),
                None,
            ),
            timeout=60,
            what="a worker running a step",
        )
        held = dict(running.filter(worker_id__in=beat_ids).values_list("pk", "lease_token"))
        os.killpg(victim.pid, signal.SIGSTOP)
        try:
            # Silent for three windows: the other worker's sweep (every beat) judged it many times meanwhile.
            window = timedelta(seconds=3 * float(FAST_HEARTBEAT["WORKER_HEARTBEAT_TIMEOUT_SECONDS"]))
            wait_for(
                lambda: not WorkerHeartbeat.objects.filter(pk__in=beat_ids, beat_at__gt=timezone.now() - window),
                timeout=60,
                what="the paused worker to be silent for three heartbeat windows",
            )
            still = dict(ExecutionStep.objects.filter(pk__in=held).values_list("pk", "lease_token"))
        finally:
            os.killpg(victim.pid, signal.SIGCONT)
        assert still == held, "the paused worker's steps were taken over"
        wait_for(
            lambda: not WorkflowExecution.objects.filter(pk__in=ids).exclude(status__in=TERMINAL).exists(),
            timeout=60,
            what="every run to end",
        )
    finally:
        workers.stop_all()
    statuses = set(WorkflowExecution.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {ExecutionStatus.COMPLETED}
    assert provider.duplicates() == 0
    assert len(provider.calls) == 2 * len(ids)
    assert not ExecutionStep.objects.filter(execution_id__in=ids, error_tech__has_key="takeovers").exists()


def test_a_database_blip_repeats_no_provider_call_and_waits_no_lease(workflow, provider, broker):
    workers = _workers(2)
    try:
        result = run_fault(fault="pg-blip", workflow=workflow, provider=provider, workers=workers, runs=8, timeout=60)
    finally:
        workers.stop_all()
    print(result.row())
    assert (result.lost, result.stuck) == (0, 0), _explain(result, workers)
    assert result.calls_in_flight_at_faults >= 2
    assert result.duplicates == 0, _explain(result, workers)
    assert result.recovery_seconds < 10, _explain(result, workers)


def test_a_broker_blip_loses_no_step_message(workflow, provider):
    if not settings.BROKER_URL.startswith("redis"):
        pytest.skip("The broker blip runs in the Redis broker's pass (it kills a private redis-server).")
    redis = RedisServer()
    workers = _workers(1, REDIS_URL=redis.url, BROKER_URL=redis.url)
    try:
        result = run_fault(
            fault="redis-blip", workflow=workflow, provider=provider, workers=workers, runs=8, redis=redis, timeout=60
        )
    finally:
        workers.stop_all()
        redis.stop()
    print(result.row())
    assert (result.lost, result.stuck) == (0, 0), _explain(result, workers)
    assert result.duplicates == 0, _explain(result, workers)
    # The failed sends went out from the outbox, and what the empty Redis lost was resent, within seconds.
    assert result.recovery_seconds < 10, _explain(result, workers)


# --- a commit whose answer was lost ------------------------------------------------------------------


@pytest.fixture
def lost_commit_answer(monkeypatch):
    """`arm()`, once: the next commit on this thread's connection reaches the database, then the connection
    "breaks" before its answer comes back (as when the backend is terminated at that moment)."""
    import threading

    from django.db import OperationalError, connections

    armed, fired = [], []
    wrapper = type(connections["default"])
    commit = wrapper._commit

    def commit_then_lose_answer(self):
        commit(self)
        if armed and armed[0] == threading.get_ident():
            armed.clear()
            fired.append(True)
            raise OperationalError("server closed the connection unexpectedly (after COMMIT)")

    monkeypatch.setattr(wrapper, "_commit", commit_then_lose_answer)

    def arm() -> None:
        if not fired and not armed:
            armed.append(threading.get_ident())

    yield arm
    assert fired, "no commit was broken: the test tested nothing"


def _arm_on(monkeypatch, module, name: str, arm, when) -> None:
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        if when(*args, **kwargs):
            arm()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


@pytest.mark.parametrize("moment", ["claim", "record", "start"])
def test_a_commit_whose_answer_was_lost_leaves_no_step_to_its_lease(
    moment, workflow, provider, lost_commit_answer, monkeypatch, settings
):
    """The transaction committed, the worker heard an error: its retry must recognise its own commit and go
    on with what the first try would have (the claimed step, the next step to run here), not wait a lease."""
    import docg.executions.actors  # noqa: F401 (registers the queues' work for the inline dispatch)
    from docg.audit.choices import ActorType
    from docg.executions import dispatch, engine, steps
    from docg.executions.choices import ExecutionStatus, StepStatus

    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    provider.delay = 0
    if moment == "claim":  # the I/O step's claim (the first provider call's)
        _arm_on(monkeypatch, steps, "_mark_running", lost_commit_answer, lambda *a, token=None, **k: token is not None)
    elif moment == "record":  # the I/O step's result, with the inline step after it to run right here
        _arm_on(monkeypatch, steps, "_record", lost_commit_answer, lambda *a, defer_next=False, **k: not defer_next)
    else:  # the run's start, with its first step to run right here
        _arm_on(monkeypatch, engine, "execution_transition", lost_commit_answer,
                lambda *, target, **k: target == ExecutionStatus.RUNNING)  # fmt: skip
    with dispatch.inline():
        execution = engine.execution_start(workflow=workflow, trigger_data={"n": 1}, actor_type=ActorType.WEBHOOK)
    execution.refresh_from_db()
    steps_left = list(execution.steps.exclude(status=StepStatus.SUCCESS).values_list("node_key", "status"))
    # Inline dispatch never waits: a step left to its lease would still be running or pending here.
    assert execution.status == ExecutionStatus.COMPLETED, steps_left
    assert provider.duplicates() == 0
    assert len(provider.calls) == 2


def test_a_worker_takes_back_its_own_claimed_step_that_no_thread_runs(workflow):
    """A claim that committed while all its retries failed (a database away longer than DB_RETRY_SECONDS)
    leaves a `running` step under a live worker that nobody runs: the worker's own sweep takes it back."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from docg.audit.choices import ActorType
    from docg.executions import dispatch, engine, reaper
    from docg.executions.choices import StepStatus
    from docg.executions.models import ExecutionStep

    me = uuid.uuid4()
    with dispatch.captured():
        execution = engine.execution_start(workflow=workflow, trigger_data={"n": 1}, actor_type=ActorType.WEBHOOK)
        engine.execution_begin(execution_id=execution.pk)
    orphan = str(ExecutionStep.objects.get(execution=execution, status=StepStatus.PENDING).pk)  # the first call
    long_ago = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS + 1)
    lease = timezone.now() + timedelta(seconds=settings.STEP_LEASE_SECONDS)
    ExecutionStep.objects.filter(pk=orphan).update(
        status=StepStatus.RUNNING, worker_id=me, lease_token=uuid.uuid4(), lease_expires_at=lease, updated_at=long_ago
    )
    with dispatch.captured() as sent:
        assert reaper.reap_unheld(worker=me, held={orphan}) == []  # a thread of this process runs it
        assert reaper.reap_unheld(worker=uuid.uuid4(), held=set()) == []  # another worker's
        assert reaper.reap_unheld(worker=me, held=set()) == [orphan]
    assert [message.object_id for message in sent] == [orphan]
    assert ExecutionStep.objects.get(pk=orphan).lease_expires_at <= timezone.now()  # the resent claim takes it


def test_a_dead_workers_step_that_another_transaction_holds_is_taken_over_by_the_next_sweep(workflow):
    """The sweep skips step rows other transactions hold (skip_locked); the dead worker's row stays until
    every one of its running steps is taken over, so a step locked at the wrong moment waits no lease."""
    import threading
    import uuid
    from datetime import timedelta

    from django.db import connections, transaction
    from django.utils import timezone

    from docg.audit.choices import ActorType
    from docg.executions import dispatch, engine, reaper
    from docg.executions.choices import StepStatus
    from docg.executions.models import ExecutionStep, WorkerHeartbeat

    dead = uuid.uuid4()
    long_ago = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS + 1)
    WorkerHeartbeat.objects.create(id=dead, hostname="gone", pid=1, started_at=long_ago, beat_at=long_ago)
    with dispatch.captured():
        execution = engine.execution_start(workflow=workflow, trigger_data={"n": 1}, actor_type=ActorType.WEBHOOK)
        engine.execution_begin(execution_id=execution.pk)
    orphan = str(ExecutionStep.objects.get(execution=execution, status=StepStatus.PENDING).pk)
    lease = timezone.now() + timedelta(seconds=settings.STEP_LEASE_SECONDS)
    ExecutionStep.objects.filter(pk=orphan).update(
        status=StepStatus.RUNNING, worker_id=dead, lease_token=uuid.uuid4(), lease_expires_at=lease
    )

    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                ExecutionStep.objects.select_for_update().get(pk=orphan)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(30)
        with dispatch.captured() as sent:
            assert reaper.reap_orphans() == []
        assert [m.object_id for m in sent if m.object_id == orphan] == []
        assert WorkerHeartbeat.objects.filter(pk=dead).exists()  # kept: its step is not taken over yet
    finally:
        release.set()
        holder.join(30)
    with dispatch.captured() as sent:
        assert orphan in reaper.reap_orphans()
    assert orphan in [m.object_id for m in sent]
    assert ExecutionStep.objects.get(pk=orphan).lease_expires_at <= timezone.now()  # the resent claim takes it
    assert not WorkerHeartbeat.objects.filter(pk=dead).exists()
