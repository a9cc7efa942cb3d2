"""The run state machine: one table, one function that applies it.

Nothing else in docg assigns `WorkflowExecution.status`.
"""

from django.utils import timezone

from docg.executions.choices import ExecutionStatus as S
from docg.executions.models import WorkflowExecution

TERMINAL = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})
# Statuses in which steps may run (the document/delivery/signature statuses included).
RUNNABLE = frozenset({S.RUNNING, S.READY, S.SENDING, S.SENT, S.SIGNING, S.SIGNED})

# While a run is active it may render, send, render again and send again: from any
# active status it can start a document (ready), an email (sending) or a signature
# (signing), go back to plain running, or finish. `sent` is only reached from
# `sending` and `signed` only from `signing`.
_NEXT = frozenset({S.RUNNING, S.READY, S.SENDING, S.SIGNING, S.COMPLETED, S.PAUSED, S.FAILED, S.CANCELED})
_STOPS = frozenset({S.PAUSED, S.FAILED, S.CANCELED})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.RUNNING, S.NEEDS_REVIEW, S.PAUSED, S.FAILED, S.CANCELED}),
    S.RUNNING: (_NEXT | {S.NEEDS_REVIEW}) - {S.RUNNING},
    S.NEEDS_REVIEW: frozenset({S.QUEUED, S.RUNNING, S.FAILED, S.CANCELED}),
    S.READY: _NEXT - {S.READY},
    S.SENDING: frozenset({S.SENT, S.RUNNING}) | _STOPS,
    S.SENT: _NEXT,
    S.SIGNING: frozenset({S.SIGNED, S.RUNNING}) | _STOPS,
    S.SIGNED: _NEXT,
    S.PAUSED: frozenset({S.QUEUED, S.RUNNING, S.FAILED, S.CANCELED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"An execution cannot go from {current!r} to {target!r}.")
        self.current = current
        self.target = target


class TransitionConflict(Exception):
    """Someone else moved the execution first (the compare-and-swap matched no row)."""


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def execution_transition(*, execution, target: str, **fields) -> None:
    """Move `execution` to `target` with a compare-and-swap on its current status.

    Raises IllegalTransition if the table forbids it and TransitionConflict if the
    row's status changed since `execution` was read. Other `fields` are written in
    the same UPDATE.
    """
    current = execution.status
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    now = timezone.now()
    changes = {"status": target, "updated_at": now, **fields}
    if target == S.RUNNING and execution.started_at is None:
        changes.setdefault("started_at", now)
    if target in TERMINAL:
        changes.setdefault("completed_at", now)
    updated = WorkflowExecution.objects.filter(pk=execution.pk, status=current).update(**changes)
    if updated == 0:
        raise TransitionConflict(f"Execution {execution.pk} is no longer {current!r}.")
    for name, value in changes.items():
        setattr(execution, name, value)
