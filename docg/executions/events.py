"""Execution events, schema v1 (PRODUCT.md section 6), published after commit.

Every event of a transaction goes to the stream in one pipelined write once the
transaction commits, so listeners never see a change that was rolled back.
"""

import logging
import threading
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone

from docg.executions.event_schema import EVENT_TYPES_V1
from docg.executions.streams import execution_key, get_streams, organization_key

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
EVENT_TYPES = frozenset(EVENT_TYPES_V1)
# The organization stream carries what list views need: creations and status changes.
ORG_EVENT_TYPES = frozenset(
    {"execution.created", "execution.status_changed", "execution.completed", "execution.failed", "execution.canceled"}
)


def build_event(execution, event_type: str, data: dict | None = None) -> dict[str, Any]:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}.")
    return {
        "schema_version": SCHEMA_VERSION,
        "event_type": event_type,
        "timestamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "execution_id": str(execution.pk),
        "workflow_id": str(execution.workflow_id),
        "organization_id": str(execution.organization_id),
        "correlation_id": str(execution.correlation_id),
        "status": execution.status,
        "progress": execution.progress,
        "current_step": execution.current_step,
        "data": data or {},
    }


_batch = threading.local()


@contextmanager
def event_batch():
    """Collect the events published inside the block and write them in one pipelined call after commit.

    The engine wraps a chain of steps in it: one Redis round trip per transaction
    instead of one per event. If the block raises, its events are dropped (the
    transaction that produced them rolls back too).
    """
    outer = getattr(_batch, "entries", None)
    if outer is not None:
        yield  # nested: the outermost batch writes
        return
    _batch.entries = entries = []
    # Registered first, so these events reach the stream before any message the block
    # sends after commit (a next step run elsewhere must not publish ahead of them).
    transaction.on_commit(lambda: entries and _write(entries))
    try:
        yield
    except BaseException:
        entries.clear()
        raise
    finally:
        _batch.entries = None


def publish_event(execution, event_type: str, data: dict | None = None) -> None:
    """Queue an event for the execution's stream (and the organization's), written after commit."""
    event = build_event(execution, event_type, data)
    entries = [(execution_key(execution.pk), event)]
    if event_type in ORG_EVENT_TYPES:
        entries.append((organization_key(execution.organization_id), event))
    batch = getattr(_batch, "entries", None)
    if batch is not None:
        batch.extend(entries)
        return
    transaction.on_commit(lambda: _write(entries))


def publish_organization_event(organization_id, event: dict[str, Any]) -> None:
    """Queue an event that is no run's (a bulk operation's progress) for the organization's stream, after commit.

    It carries `schema_version`, `event_type`, `timestamp` and `organization_id` like a run's event.
    """
    event = {
        "schema_version": SCHEMA_VERSION,
        "timestamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "organization_id": str(organization_id),
        **event,
    }
    entries = [(organization_key(organization_id), event)]
    transaction.on_commit(lambda: _write(entries))


def _write(entries: list) -> None:
    try:
        get_streams().append_many(entries)
    except Exception:
        # PostgreSQL is the truth: a stream outage must not fail the run. Readers
        # that missed events get a reset with the current state.
        logger.exception("Could not publish %d execution event(s)", len(entries))
