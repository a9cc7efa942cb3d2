"""The page shell's own actions: switching organization, and the icon browsers ask for at /favicon.ico."""

from django.http import Http404, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST, require_safe

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


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """Browsers and bookmarks ask for /favicon.ico whatever the page says: send them to the icon.

    To its static name (hashed in production), so a new icon reaches browsers after a deploy.
    """
    return HttpResponseRedirect(static("favicon.svg"))
