"""Execution logs a business user can read, with the technical details beside them."""

import json
import threading
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from django.utils.functional import Promise

from docg.executions.choices import LogLevel
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowExecution

_batch = threading.local()


def _safe(details: Any) -> Any:
    return json.loads(json.dumps(details, cls=DjangoJSONEncoder)) if details is not None else None


@contextmanager
def log_batch():
    """Insert the log lines written inside the block with one query at its end (same transaction)."""
    if getattr(_batch, "rows", None) is not None:
        yield
        return
    _batch.rows = rows = []
    try:
        yield
    finally:
        _batch.rows = None
    if rows:
        ExecutionLog.objects.bulk_create(rows)


def execution_log(
    *,
    execution: WorkflowExecution,
    level: str,
    domain: str,
    message: str | Promise,
    details: Any = None,
    step: ExecutionStep | None = None,
) -> ExecutionLog:
    """Append one log line to an execution; the correlation id comes from the execution.

    A lazy message (gettext_lazy, format_lazy) is written in the organization's language.
    """
    if isinstance(message, Promise):
        with translation.override(execution.organization.language):
            message = str(message)
    row = ExecutionLog(
        organization_id=execution.organization_id,
        execution=execution,
        step=step,
        timestamp=timezone.now(),
        level=level,
        domain=domain,
        message_human=message,
        details_tech=_safe(details),
        correlation_id=execution.correlation_id,
    )
    rows = getattr(_batch, "rows", None)
    if rows is not None:
        rows.append(row)
    else:
        row.save(force_insert=True)
    return row


def log_ok(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.OK, **kwargs)


def log_warn(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.WARN, **kwargs)


def log_error(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.ERROR, **kwargs)
