"""The v1 event schema (PRODUCT.md section 6) as JSON Schema: one definition for the code and the tests."""

from functools import lru_cache

from jsonschema import Draft202012Validator

from docg.executions.choices import ExecutionStatus

EVENT_TYPES_V1 = [
    "execution.created",
    "execution.status_changed",
    "execution.progress",
    "preflight.completed",
    "step.started",
    "step.completed",
    "step.failed",
    "execution.completed",
    "execution.failed",
    "execution.canceled",
    "signature.requested",
    "signature.viewed",
    "signature.signed",
    "signature.declined",
    "signature.completed",
    "approval.requested",
    "approval.decided",
    "log.appended",
]

_UUID = {"type": "string", "format": "uuid", "pattern": "^[0-9a-f-]{36}$"}

EVENT_SCHEMA_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "docg execution event v1",
    "type": "object",
    "required": [
        "schema_version",
        "event_id",
        "event_type",
        "timestamp",
        "execution_id",
        "workflow_id",
        "organization_id",
        "correlation_id",
        "status",
        "progress",
        "current_step",
        "data",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        # `<epoch>:<stream entry id>`; the SSE `id:` line carries the same value.
        "event_id": {"type": "string", "pattern": "^[0-9a-f]+:[0-9]+-[0-9]+$"},
        "event_type": {"enum": EVENT_TYPES_V1},
        "timestamp": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"},
        "execution_id": _UUID,
        "workflow_id": _UUID,
        "organization_id": _UUID,
        "correlation_id": _UUID,
        "status": {"enum": list(ExecutionStatus.values)},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "current_step": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["index", "label", "node_key", "node_type"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "label": {"type": "string"},
                        "node_key": {"type": "string"},
                        "node_type": {"type": "string"},
                    },
                },
            ]
        },
        "data": {"type": "object"},
    },
}


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(EVENT_SCHEMA_V1)


def event_errors(event: dict) -> list[str]:
    """Every way `event` (as clients receive it, event_id included) departs from schema v1."""
    return [f"{'.'.join(map(str, e.absolute_path)) or 'event'}: {e.message}" for e in _validator().iter_errors(event)]
