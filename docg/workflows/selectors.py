from django.db.models import Prefetch, QuerySet

from docg.workflows.models import Workflow, WorkflowNode


def workflows_with_nodes() -> QuerySet[Workflow]:
    """Workflows with their nodes (in order) and active version, in three queries for any page size."""
    return Workflow.objects.select_related("active_version").prefetch_related(
        Prefetch("nodes", queryset=WorkflowNode.objects.order_by("order"))
    )
