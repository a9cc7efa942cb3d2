"""Test helpers for the engine: a real Dramatiq worker (threads, on the configured broker) and waiting."""

import time
from collections.abc import Callable
from typing import Any

import dramatiq
import pytest

from docg.executions.models import WorkflowExecution


def wait_until(condition: Callable[[], Any], *, timeout: float = 15.0, what: str = "the condition") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.02)


def wait_for_status(execution_id, *statuses: str, timeout: float = 15.0) -> WorkflowExecution:
    def reached():
        execution = WorkflowExecution.objects.get(pk=execution_id)
        return execution if execution.status in statuses else None

    return wait_until(reached, timeout=timeout, what=f"execution {execution_id} to be {'/'.join(statuses)}")


@pytest.fixture
def worker(transactional_db, settings):
    """A Dramatiq worker on the real broker, in this process, for the test's duration."""
    settings.REAPER_INTERVAL_SECONDS = 0.5
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()
    broker.flush_all()
