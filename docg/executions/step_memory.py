"""A provider step's durable memory: what it already did at the provider, shared by every attempt of the step.

A retry is a new ExecutionStep row and a takeover runs the same row again in
another worker; neither knows what the earlier attempt's provider calls
created unless the action wrote it down as it went. The engine hands an action
`ActionContext.recall` / `remember` backed by these two functions. Each write
is its own short transaction (an action runs outside any), committed before
the action makes its next call, so a crash right after a call at worst loses
that one call's answer.
"""

from typing import Any

from docg.executions.models import StepMemory, WorkflowExecution


def step_memory_of(*, execution_id: Any, node_key: str) -> dict[str, Any]:
    """What earlier attempts of this step remembered ({} for none)."""
    value = StepMemory.objects.filter(execution_id=execution_id, node_key=node_key).values_list("value", flat=True)
    return dict(value.first() or {})


def step_memory_save(*, execution: WorkflowExecution, node_key: str, memory: dict[str, Any]) -> None:
    """Replace the step's memory (autocommit: it must outlive the attempt that wrote it)."""
    StepMemory.objects.update_or_create(
        execution=execution,
        node_key=node_key,
        defaults={"value": memory},
        create_defaults={"organization_id": execution.organization_id, "value": memory},
    )
