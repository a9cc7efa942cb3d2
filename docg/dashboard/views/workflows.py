from django.shortcuts import render

from docg.dashboard.context import dashboard_view
from docg.workflows.selectors import workflows_with_nodes


@dashboard_view
def home(request):
    """The current organization's workflows."""
    workflows = workflows_with_nodes().filter(organization=request.organization)[:50]
    return render(request, "dashboard/home.html", {"workflows": workflows})
