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
