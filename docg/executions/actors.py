"""Dramatiq actors: ids in, services called. One step actor per queue, so slow provider I/O
(documents, emails, signatures, webhooks) never waits behind quick steps.

The top of the executions app: actors call the engine, and register themselves with
docg.executions.dispatch, which the engine sends through without importing this module.
"""

import uuid
from collections.abc import Callable

import dramatiq
from django.db import close_old_connections

from docg.executions import dispatch
from docg.executions.db_retry import on_fresh_connection
from docg.executions.engine import execution_begin, step_run

# The engine takes care of its own retries (with attempts recorded on the steps).
_OPTIONS = {"max_retries": 0, "time_limit": 15 * 60 * 1000}


def _chain(next_step: tuple[str, str] | None, queue: str) -> None:
    """Run steps back to back while the next one belongs on this queue and needs no wait."""
    while next_step is not None and next_step[1] == queue:
        step_id, token = next_step[0], uuid.uuid4()
        # A database blip: the claim (or a chain of inline steps) rolled back and runs again; or it committed
        # and only the answer was lost, which the retry (`again`) recognises by the claim's token.
        next_step = on_fresh_connection(
            lambda step_id=step_id, token=token: step_run(step_id=step_id, queue=queue, token=token),
            what=f"running step {step_id}",
            again=lambda step_id=step_id, token=token: step_run(step_id=step_id, queue=queue, token=token, again=True),
        )
    if next_step is not None:
        dispatch.step_enqueue(step_id=next_step[0], queue=next_step[1])


def execution_start_handle(execution_id: str) -> None:
    """A start message: preflight, the trigger, then the first steps that belong on the default queue."""
    begun = on_fresh_connection(
        lambda: execution_begin(execution_id=execution_id),
        what=f"starting {execution_id}",
        again=lambda: execution_begin(execution_id=execution_id, again=True),
    )
    _chain(begun, dispatch.DEFAULT_QUEUE)


def _step_handler(queue: str) -> Callable[[str], None]:
    def handle(step_id: str) -> None:
        _chain((step_id, queue), queue)

    return handle


def _actor(queue: str, run: Callable[[str], None], *, queue_name: str, actor_name: str) -> dramatiq.Actor:
    def receive(object_id: str) -> None:
        try:
            run(object_id)
        finally:
            close_old_connections()

    receive.__name__ = actor_name.removeprefix("docg.").replace(".", "_")
    actor = dramatiq.actor(receive, queue_name=queue_name, actor_name=actor_name, **_OPTIONS)
    dispatch.route_register(queue, actor=actor, run=run)
    return actor


start_execution = _actor(
    dispatch.START, execution_start_handle, queue_name=dispatch.DEFAULT_QUEUE, actor_name="docg.start_execution"
)
STEP_ACTORS = {
    queue: _actor(queue, _step_handler(queue), queue_name=queue, actor_name=f"docg.run_step.{queue}")
    for queue in dispatch.QUEUES
}


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


@dramatiq.actor(queue_name="default", actor_name="docg.retention_purge", **_OPTIONS)
def retention_purge() -> None:
    """Delete runs and documents past their organization's retention (docg.executions.retention)."""
    from docg.executions.retention import retention_purge as purge

    try:
        purge()
    finally:
        close_old_connections()
