"""The page shell's own actions: switching organization."""

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from docg.dashboard.context import dashboard_view
from docg.orgs import tenancy


@require_POST
@dashboard_view
def switch_organization(request):
    """Make another of the user's organizations current; a foreign id is a 404."""
    if tenancy.session_choose(request, request.POST.get("organization", "")) is None:
        raise Http404("Not found.")
    target = request.POST.get("next") or reverse("dashboard:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard:home")
    return HttpResponseRedirect(target)
