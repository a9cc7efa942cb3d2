from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from docg.executions.models import WorkflowExecution
from docg.orgs.selectors import memberships_of


@login_required
def execution_detail(request, pk):
    """One run, live: the page follows the execution's SSE stream."""
    organizations = [m.organization_id for m in memberships_of(user=request.user)]
    execution = (
        WorkflowExecution.objects.select_related("workflow").filter(pk=pk, organization_id__in=organizations).first()
    )
    if execution is None:
        raise Http404("No such run.")
    return render(request, "dashboard/execution.html", {"execution": execution})


@login_required
def executions(request):
    """The latest runs of the user's organizations, newest first, each linking to its live page."""
    organizations = [m.organization_id for m in memberships_of(user=request.user)]
    runs = (
        WorkflowExecution.objects.filter(organization_id__in=organizations)
        .select_related("workflow")
        .order_by("-created_at")[:50]
    )
    return render(request, "dashboard/executions.html", {"runs": runs})
