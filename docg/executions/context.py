"""A run's expression context (what a step's expressions can see), and the frozen definition it follows."""

import json
from typing import Any

from docg.executions.choices import StepStatus
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.workflows.models import WorkflowDatastore

DATASTORE_LIMIT = 1000


_DEFINITIONS: dict[Any, dict] = {}
_DEFINITIONS_MAX = 1024


def definition(execution: WorkflowExecution) -> dict[str, Any]:
    """The frozen definition of the version this execution runs (never the live, editable nodes).

    Versions never change once frozen, so each process decodes one at most once.
    """
    version_id = execution.workflow_version_id
    found = _DEFINITIONS.get(version_id)
    if found is None:
        found = execution.workflow_version.definition
        if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
            _DEFINITIONS.clear()
        _DEFINITIONS[version_id] = found
    return found


_READS_DATASTORE: dict[Any, bool] = {}


def _reads_datastore(execution: WorkflowExecution) -> bool:
    """Whether anything in the version names the datastore (an expression, a datastore action); once per version."""
    version_id = execution.workflow_version_id
    found = _READS_DATASTORE.get(version_id)
    if found is None:
        found = "datastore" in json.dumps(definition(execution))
        if len(_READS_DATASTORE) >= _DEFINITIONS_MAX:
            _READS_DATASTORE.clear()
        _READS_DATASTORE[version_id] = found
    return found


def definition_nodes(execution: WorkflowExecution) -> list[dict[str, Any]]:
    return definition(execution)["nodes"]


def expression_context(execution: WorkflowExecution, *, steps: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the run's expressions see; `steps` (node key → output) when the caller holds them, else read back."""
    if steps is None:
        steps = dict(
            ExecutionStep.objects.filter(execution=execution, status=StepStatus.SUCCESS)
            .order_by("index", "attempt")
            .values_list("node_key", "data_out")
        )
    # A version that never names the datastore cannot read it: its runs skip the query.
    datastore = {}
    if _reads_datastore(execution):
        datastore = dict(
            WorkflowDatastore.objects.filter(workflow_id=execution.workflow_id)
            .order_by("key")
            .values_list("key", "value")[:DATASTORE_LIMIT]
        )
    return {
        "trigger": execution.trigger_data,
        "steps": steps,
        "workflow": {"id": str(execution.workflow_id), "name": definition(execution).get("name", "")},
        "execution": {
            "id": str(execution.pk),
            "correlation_id": str(execution.correlation_id),
            "dry_run": execution.dry_run,
        },
        "org": {
            "id": str(execution.organization_id),
            "name": execution.organization.name,
            "language": execution.organization.language,
        },
        "datastore": datastore,
    }
