"""Execution logs a business user can read, with the technical details beside them."""

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from docg.executions.choices import LogLevel
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowExecution


def _safe(details: Any) -> Any:
    import json

    return json.loads(json.dumps(details, cls=DjangoJSONEncoder)) if details is not None else None


def execution_log(
    *,
    execution: WorkflowExecution,
    level: str,
    domain: str,
    message: str,
    details: Any = None,
    step: ExecutionStep | None = None,
) -> ExecutionLog:
    """Append one log line to an execution; the correlation id comes from the execution."""
    return ExecutionLog.objects.create(
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


def log_ok(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.OK, **kwargs)


def log_warn(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.WARN, **kwargs)


def log_error(**kwargs) -> ExecutionLog:
    return execution_log(level=LogLevel.ERROR, **kwargs)
