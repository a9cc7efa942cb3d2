"""Workflows for engine and API tests, built through the services (one definition for every test module)."""

from typing import Any

from docg.workflows.services import workflow_activate, workflow_create

TRIGGER = {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"}


def action(key: str, operation: str, app: str = "core", **extra: Any) -> dict:
    return {"key": key, "kind": "action", "app": app, "operation": operation, **extra}


PREPARE = action("prepare", "set_variables", parameters={"variables": {"customer": "{{ trigger.customer | upper }}"}})
APPROVAL = action("review", "approval", parameters={"message": "Send the contract to {{ trigger.customer }}?"})
FAIL = action("check", "fail", parameters={"code": "data.invalid", "message": "The customer is blocked."})


def active_workflow(cast, *nodes: dict, organization=None, name: str = "flow", activate: bool = True):
    """A workflow of TRIGGER + `nodes`, owned by the organization's owner, activated unless told not to."""
    organization = organization or cast.acme
    owner = cast.charlie if organization == cast.globex else cast.alice
    workflow = workflow_create(organization=organization, by=owner, name=name, nodes=[TRIGGER, *nodes])
    if activate:
        workflow_activate(workflow=workflow, by=owner)
    return workflow
