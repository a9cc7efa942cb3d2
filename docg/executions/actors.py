"""Dramatiq actors: ids in, services called. One step actor per queue, so slow provider I/O
(documents, emails, signatures, webhooks) never waits behind quick steps."""

import dramatiq
from django.db import close_old_connections

QUEUES = ("default", "documents", "emails", "signatures", "webhooks", "approvals")
# The engine takes care of its own retries (with attempts recorded on the steps).
_OPTIONS = {"max_retries": 0, "time_limit": 15 * 60 * 1000}


@dramatiq.actor(queue_name="default", actor_name="docg.start_execution", **_OPTIONS)
def start_execution(execution_id: str) -> None:
    from docg.executions.engine import execution_begin

    _run_chain(execution_begin(execution_id=execution_id), "default")


def _run_step(queue: str):
    def run(step_id: str) -> None:
        _run_chain((step_id, queue), queue)

    run.__name__ = f"run_step_{queue}"
    return dramatiq.actor(run, queue_name=queue, actor_name=f"docg.run_step.{queue}", **_OPTIONS)


STEP_ACTORS = {queue: _run_step(queue) for queue in QUEUES}


def _run_chain(next_step, queue: str) -> None:
    """Run steps back to back while the next one belongs on this queue and needs no wait."""
    from docg.executions.engine import step_run

    try:
        while next_step is not None and next_step[1] == queue:
            next_step = step_run(step_id=next_step[0], queue=queue)
        if next_step is not None:
            send(next_step[1], next_step[0])
    finally:
        close_old_connections()


def send(queue: str, object_id: str, *, delay_ms: int = 0) -> None:
    """Enqueue the start of an execution ("start") or a step on its queue."""
    actor = start_execution if queue == "start" else STEP_ACTORS.get(queue, STEP_ACTORS["default"])
    actor.send_with_options(args=(object_id,), delay=delay_ms or None)


@dramatiq.actor(queue_name="bulk", actor_name="docg.bulk_operation", **_OPTIONS)
def process_bulk_operation(operation_id: str) -> None:
    """Work through a bulk retry/cancel (docg.executions.bulk), batch by batch."""
    from docg.executions.bulk import bulk_work

    try:
        bulk_work(operation_id=operation_id)
    finally:
        close_old_connections()


@dramatiq.actor(queue_name="webhooks", actor_name="docg.deliver_events", **_OPTIONS)
def deliver_events() -> None:
    """Outgoing event subscriptions (docg.executions.subscriptions): new deliveries, then the due ones."""
    from docg.executions.subscriptions import deliveries_send, subscriptions_dispatch

    try:
        subscriptions_dispatch()
        deliveries_send()
    finally:
        close_old_connections()
