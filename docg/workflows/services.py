from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.orgs.models import Organization, User
from docg.workflows import graph
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow, WorkflowNode, WorkflowVersion


def node_to_dict(node: WorkflowNode) -> dict[str, Any]:
    """The definition shape of a node, as the API and frozen versions carry it."""
    return {
        "key": node.key,
        "kind": node.kind,
        "app": node.app,
        "operation": node.operation,
        "label": node.label,
        "parameters": node.parameters,
        "position": node.position,
        "next": node.next_key,
        "branches": node.branches,
        "else": node.else_key,
        "connection": str(node.connection_id) if node.connection_id else None,
    }


def _invalid(problems: list[dict], code: str = "workflow_invalid") -> DocgError:
    first = problems[0]
    where = f"node {first['node_key']!r}: " if first["node_key"] else ""
    return DocgError(code, f"The workflow is not valid: {where}{first['message']}", details={"errors": problems})


def _replace_nodes(*, workflow: Workflow, nodes: list[dict[str, Any]]) -> None:
    problems = graph.structure_errors(_plain(nodes))
    if problems:
        raise _invalid(problems)
    workflow.nodes.all().delete()
    WorkflowNode.objects.bulk_create(
        [
            WorkflowNode(
                organization_id=workflow.organization_id,
                workflow=workflow,
                order=order,
                key=node["key"],
                kind=node["kind"],
                app=node["app"],
                operation=node["operation"],
                label=node.get("label") or "",
                parameters=node.get("parameters") or {},
                position=node.get("position"),
                next_key=node.get("next") or "",
                branches=node.get("branches") or [],
                else_key=node.get("else") or "",
                connection=node.get("connection"),
            )
            for order, node in enumerate(nodes)
        ]
    )


def _plain(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**n, "connection": str(n["connection"].pk) if n.get("connection") else None} for n in nodes]


@transaction.atomic
def workflow_create(
    *, organization: Organization, by: User | None, name: str, nodes: list[dict[str, Any]], description: str = ""
) -> Workflow:
    """Create a draft workflow with its nodes (connections already checked to be the organization's)."""
    workflow = Workflow.objects.create(organization=organization, name=name, description=description, created_by=by)
    _replace_nodes(workflow=workflow, nodes=nodes)
    audit_log(
        organization=organization,
        action=AuditAction.WORKFLOW_CREATED,
        target_type="workflow",
        target_id=workflow.pk,
        metadata={"name": name, "nodes": len(nodes)},
        **user_actor(by),
    )
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    by: User | None,
    name: str | None = None,
    description: str | None = None,
    nodes: list[dict[str, Any]] | None = None,
) -> Workflow:
    """Edit a workflow. Running executions keep their frozen version; the active version stays until re-activation."""
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    changed = []
    if name is not None and name != workflow.name:
        workflow.name, changed = name, [*changed, "name"]
    if description is not None and description != workflow.description:
        workflow.description, changed = description, [*changed, "description"]
    if changed:
        workflow.save(update_fields=[*changed, "updated_at"])
    if nodes is not None:
        _replace_nodes(workflow=workflow, nodes=nodes)
        changed.append("nodes")
        workflow.save(update_fields=["updated_at"])
    if changed:
        audit_log(
            organization=workflow.organization_id,
            action=AuditAction.WORKFLOW_UPDATED,
            target_type="workflow",
            target_id=workflow.pk,
            metadata={"changed": changed},
            **user_actor(by),
        )
    return workflow


@transaction.atomic
def workflow_delete(*, workflow: Workflow, by: User | None) -> str:
    """Delete a workflow that never ran; archive one that did (its runs stay readable). Returns which."""
    # Locked so a run cannot start between the check and the delete (a run's cascade would go with it).
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if workflow.archived_at is not None:
        return "archived"
    if workflow.executions.exists():
        return _archive(workflow=workflow, by=by)
    audit_log(
        organization=workflow.organization_id,
        action=AuditAction.WORKFLOW_DELETED,
        target_type="workflow",
        target_id=workflow.pk,
        metadata={"name": workflow.name},
        **user_actor(by),
    )
    Workflow.objects.filter(pk=workflow.pk).update(active_version=None)
    try:
        with transaction.atomic():
            workflow.delete()
    except ProtectedError:
        # Something else still points at it (a row the check above does not know): keep it, archived.
        return _archive(workflow=workflow, by=by)
    return "deleted"


def _archive(*, workflow: Workflow, by: User | None) -> str:
    workflow.archived_at = timezone.now()
    workflow.status = WorkflowStatus.INACTIVE  # nothing starts it any more; its runs go on
    workflow.save(update_fields=["archived_at", "status", "updated_at"])
    audit_log(
        organization=workflow.organization_id,
        action=AuditAction.WORKFLOW_DELETED,
        target_type="workflow",
        target_id=workflow.pk,
        metadata={"name": workflow.name, "archived": True},
        **user_actor(by),
    )
    return "archived"


@transaction.atomic
def workflow_restore(*, workflow: Workflow, by: User | None) -> Workflow:
    """Bring an archived workflow back to the lists, inactive (activate it to run it again)."""
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if workflow.archived_at is None:
        return workflow
    workflow.archived_at = None
    workflow.save(update_fields=["archived_at", "updated_at"])
    audit_log(
        organization=workflow.organization_id,
        action=AuditAction.WORKFLOW_UPDATED,
        target_type="workflow",
        target_id=workflow.pk,
        metadata={"changed": ["archived_at"], "restored": True},
        **user_actor(by),
    )
    return workflow


@transaction.atomic
def workflow_activate(*, workflow: Workflow, by: User | None) -> WorkflowVersion:
    """Validate the graph and freeze it into a new WorkflowVersion that runs from now on."""
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if workflow.archived_at is not None:
        raise DocgError("workflow.archived", "This workflow is archived: restore it before activating it.",
                       status_code=409)  # fmt: skip
    definition_nodes = [node_to_dict(n) for n in workflow.nodes.order_by("order")]
    problems = graph.activation_errors(definition_nodes)
    if problems:
        raise _invalid(problems)
    last = workflow.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = WorkflowVersion.objects.create(
        organization_id=workflow.organization_id,
        workflow=workflow,
        number=last + 1,
        definition={"name": workflow.name, "nodes": definition_nodes},
        created_by=by,
    )
    workflow.active_version = version
    workflow.status = WorkflowStatus.ACTIVE
    workflow.save(update_fields=["active_version", "status", "updated_at"])
    audit_log(
        organization=workflow.organization_id,
        action=AuditAction.WORKFLOW_ACTIVATED,
        target_type="workflow",
        target_id=workflow.pk,
        metadata={"version": version.number},
        **user_actor(by),
    )
    return version


@transaction.atomic
def workflow_deactivate(*, workflow: Workflow, by: User | None) -> Workflow:
    """Stop new runs from starting; the versions stay."""
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if workflow.status != WorkflowStatus.INACTIVE:
        workflow.status = WorkflowStatus.INACTIVE
        workflow.save(update_fields=["status", "updated_at"])
        audit_log(
            organization=workflow.organization_id,
            action=AuditAction.WORKFLOW_DEACTIVATED,
            target_type="workflow",
            target_id=workflow.pk,
            **user_actor(by),
        )
    return workflow
