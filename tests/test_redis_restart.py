"""Redis (broker and streams) restarted mid-run, losing everything: the run completes from
PostgreSQL, and a connected SSE client gets `stream.reset` and then live events."""

import threading

import pytest

from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.models import ExecutionStep
from docg.executions.tests import sse_client
from tests.fixtures.engine import wait_for_status
from tests.fixtures.processes import LiveServer, RedisServer, start_delayed_run, wait_for_delay_step, worker_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST_LEASES = {"STEP_LEASE_SECONDS": "2", "REAPER_INTERVAL_SECONDS": "0.5", "SSE_HEARTBEAT_SECONDS": "0.5"}


@pytest.fixture
def private_redis():
    server = RedisServer()
    yield server
    server.stop()


def test_run_survives_redis_restart_and_sse_client_is_reset(cast, private_redis):
    web = LiveServer(REDIS_URL=private_redis.url, **FAST_LEASES)
    worker = worker_process("redis-restart-worker", REDIS_URL=private_redis.url, **FAST_LEASES)
    try:
        execution_id, headers = start_delayed_run(web, cast.alice, cast.acme, "restart")

        sessions = []
        reader = threading.Thread(
            target=lambda: sessions.append(
                sse_client.read(f"{web.url}/api/v1/sse/executions/{execution_id}/stream", headers=headers, timeout=60)
            )
        )
        reader.start()
        # Mid-run: the delay's scheduled message sits in Redis when Redis loses everything.
        wait_for_delay_step(execution_id)
        private_redis.restart()

        done = wait_for_status(execution_id, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=60)
        assert done.status == ExecutionStatus.COMPLETED, worker.log_tail()
        assert ExecutionStep.objects.get(execution_id=execution_id, node_key="finish").status == StepStatus.SUCCESS
        reader.join(timeout=60)
        events = [f.event for f in sessions[0].events]
        assert "stream.reset" in events, events
        after_reset = events[events.index("stream.reset") + 1 :]
        assert after_reset[-1] == "execution.completed", events
        assert "step.started" in after_reset  # live events flow again after the reset
    finally:
        worker.stop()
        web.stop()
