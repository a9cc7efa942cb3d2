"""Workflow definitions for tests, in the API's node shape."""


def linear_nodes(*extra: dict) -> list[dict]:
    """A valid webhook → set_variables flow, plus any extra nodes."""
    return [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        {
            "key": "prepare",
            "kind": "action",
            "app": "core",
            "operation": "set_variables",
            "parameters": {"variables": {"customer": "{{ trigger.customer }}"}},
        },
        *extra,
    ]


def workflow_body(name: str = "Contract", nodes: list[dict] | None = None) -> dict:
    return {"name": name, "description": "Send the contract", "nodes": nodes if nodes is not None else linear_nodes()}
