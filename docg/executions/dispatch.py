"""The engine's only way to hand work to a worker: a queue message, sent after commit.

A message names a run to start ("start") or a step to run, and the queue it goes
on; one step queue per kind of work (QUEUES) so slow provider I/O never waits
behind quick steps. Messages leave only once the transaction that made their
rows has committed (a worker must find what it is told to run), and a rolled
back transaction sends nothing.

The actors module registers, at import, the Dramatiq actor of each queue and
the plain function it runs (route_register); this module never imports it, so
the engine services below the actors can send without a circle.

Two modes replace the broker for a block of code, process-wide:
- inline(): each message's work runs here, in this thread, once its
  transaction commits (demo seeding, scripts, tests that want a run to rest
  without a worker);
- captured(): messages are recorded, and sent on only with deliver=True
  (tests that drive steps themselves, or that lose a message on purpose).

Through the broker, a message sent in a transaction is also written to the
outbox (docg.executions.outbox) in that transaction: if the send after commit
fails (broker down), the row is sent again within seconds by a worker
(outbox_drain), and the caller does not see the failure.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from docg.connectors.registry import Operation
from docg.executions import outbox
from docg.workflows.graph import NodeDict, node_operation

logger = logging.getLogger(__name__)

START = "start"
DEFAULT_QUEUE = "default"
QUEUES = (DEFAULT_QUEUE, "documents", "emails", "signatures", "webhooks", "approvals")


class Message(NamedTuple):
    queue: str  # START, or a step queue
    object_id: str  # the execution's id for START, else the step's
    delay_ms: int = 0


class Route(NamedTuple):
    actor: Any  # the dramatiq.Actor that receives the message in a worker
    run: Callable[[str], None]  # what that actor does with the id (without the worker's bookkeeping)


_routes: dict[str, Route] = {}


def route_register(queue: str, *, actor: Any, run: Callable[[str], None]) -> None:
    """Called by docg.executions.actors at import: who handles messages for `queue` (START or a step queue)."""
    _routes[queue] = Route(actor, run)


def _route(queue: str) -> Route:
    # A step message for a queue with no actor of its own goes to the default queue's.
    route = _routes.get(queue) if queue == START else _routes.get(queue, _routes.get(DEFAULT_QUEUE))
    if route is None:
        raise RuntimeError("No engine actor is registered: docg.executions.actors was not imported.")
    return route


def operation_queue(operation: Operation | None) -> str:
    """The queue an operation's steps run on (an unknown operation runs on the default queue, and fails there)."""
    return operation.queue if operation is not None else DEFAULT_QUEUE


def node_queue(node: NodeDict) -> str:
    """The queue of the step that runs this node."""
    return operation_queue(node_operation(node))


def execution_enqueue(*, execution_id: Any) -> None:
    """After commit, send the message that starts this run (preflight, then its first steps)."""
    _on_commit(Message(START, str(execution_id)))


def step_enqueue(*, step_id: Any, queue: str, delay_ms: int = 0) -> None:
    """After commit, send the message that runs this step on `queue`, `delay_ms` from then."""
    _on_commit(Message(queue, str(step_id), int(delay_ms)))


# --- delivery ----------------------------------------------------------------------


@dataclass(eq=False)
class _Inline:
    messages: deque = field(default_factory=deque)
    running: bool = False


@dataclass(eq=False)
class _Captured:
    deliver: bool
    messages: list[Message] = field(default_factory=list)


# A stack, process-wide: a capture must also see the messages a test's worker threads send.
_modes: list[_Inline | _Captured] = []
_modes_lock = threading.Lock()


class _Delivery:
    """The on_commit callback of one message; `scope` is the inline block it was sent in, if any;
    `row_id` its outbox row, if it has one."""

    def __init__(self, message: Message, scope: _Inline | None, row_id: int | None = None) -> None:
        self.message = message
        self.scope = scope
        self.row_id = row_id

    def __call__(self) -> None:
        if self.row_id is None:
            _deliver(self.message)
            return
        try:
            _deliver(self.message)
        except Exception:
            # Committed, so the row is there: a worker's drain sends it again within seconds.
            logger.warning("Could not send %s; the outbox will send it again", self.message, exc_info=True)
            return
        outbox.outbox_sent(self.row_id)


def _on_commit(message: Message) -> None:
    innermost = _modes[-1] if _modes else None
    row_id = None
    if innermost is None and transaction.get_connection().in_atomic_block:
        row_id = outbox.outbox_write(queue=message.queue, object_id=message.object_id, delay_ms=message.delay_ms)
    transaction.on_commit(_Delivery(message, innermost if isinstance(innermost, _Inline) else None, row_id))


def _deliver(message: Message, below: int | None = None) -> None:
    with _modes_lock:
        depth = len(_modes) if below is None else below
        mode = _modes[depth - 1] if depth > 0 else None
    if isinstance(mode, _Captured):
        mode.messages.append(message)
        if mode.deliver:
            _deliver(message, below=depth - 1)
    elif isinstance(mode, _Inline):
        _run_inline(mode, message)
    else:
        actor = _route(message.queue).actor
        actor.send_with_options(args=(message.object_id,), delay=message.delay_ms or None)


def outbox_drain(*, limit: int = 500) -> int:
    """Send again the outbox's messages whose send failed after commit; returns how many left."""
    sent: list[int] = []
    with transaction.atomic():
        for row in outbox.outbox_due(limit=limit):
            delay_ms = max(0, int((row.due_at - timezone.now()).total_seconds() * 1000))
            try:
                _deliver(Message(row.queue, row.object_id, delay_ms))
            except Exception:
                # Still down: the rest stay for the next drain.
                logger.warning("The outbox could not send %s yet", row, exc_info=True)
                break
            sent.append(row.pk)
        outbox.outbox_delete(sent)
    if sent:
        logger.warning("Sent again %d message(s) whose first send had failed", len(sent))
    return len(sent)


def _run_inline(scope: _Inline, message: Message) -> None:
    # A trampoline: work that sends more work (a step handing over to the next) queues it and returns,
    # so a long run does not nest one call per step. Delays are not waited for.
    scope.messages.append(message)
    if scope.running:
        return
    scope.running = True
    try:
        while scope.messages:
            queued = scope.messages.popleft()
            _route(queued.queue).run(queued.object_id)
    finally:
        scope.running = False
        scope.messages.clear()


def _run_still_uncommitted(scope: _Inline) -> None:
    """Run this block's messages whose transaction is still open (a test's, or an outer atomic block).

    Their commit will not come before the block ends (a test's transaction never commits),
    so the work runs now, in that transaction. Messages of rolled-back savepoints were
    already dropped by Django.
    """
    connection = transaction.get_connection()
    while True:
        ours = [e for e in connection.run_on_commit if isinstance(e[1], _Delivery) and e[1].scope is scope]
        if not ours:
            return
        connection.run_on_commit = [e for e in connection.run_on_commit if not any(e is o for o in ours)]
        for _, delivery, _ in ours:
            delivery()


@contextmanager
def inline() -> Iterator[None]:
    """Inside the block, sent work runs in this process when its transaction commits, never through the broker."""
    scope = _Inline()
    with _modes_lock:
        _modes.append(scope)
    try:
        yield
        _run_still_uncommitted(scope)
    finally:
        with _modes_lock:
            _modes.remove(scope)


@contextmanager
def captured(*, deliver: bool = False) -> Iterator[list[Message]]:
    """Record every message whose transaction commits inside the block; send them on only with `deliver`."""
    scope = _Captured(deliver=deliver)
    with _modes_lock:
        _modes.append(scope)
    try:
        yield scope.messages
    finally:
        with _modes_lock:
            _modes.remove(scope)
