from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from docg.orgs.selectors import memberships_of
from docg.workflows.selectors import workflows_with_nodes


@login_required
def home(request):
    """The signed-in user's organizations and their workflows (the full dashboard comes later)."""
    memberships = list(memberships_of(user=request.user))
    chosen = request.GET.get("org")
    current = next(
        (m for m in memberships if str(m.organization_id) == chosen), memberships[0] if memberships else None
    )
    workflows = (
        workflows_with_nodes().filter(organization_id=current.organization_id)[:50] if current is not None else []
    )
    return render(
        request,
        "dashboard/home.html",
        {"memberships": memberships, "current": current, "workflows": workflows},
    )
