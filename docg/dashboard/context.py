"""Who is looking, for which organization, and may they change things.

Every dashboard view is wrapped in `dashboard_view`: it requires a session
login, resolves the current membership (the organization chosen with the
switcher, kept in the session, or the user's first one: docg.orgs.tenancy) and
puts it on the request. Objects are looked up with `member_object`, which only ever finds
rows of the user's own organizations: anything else is a 404.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from docg.dashboard.input import refuse_unstorable_post
from docg.orgs import tenancy

# The main navigation after Workflows and Runs; an area whose routes do not exist yet is left out.
NAVIGATION = [
    ("dashboard:approvals", _("Approvals")),
    ("dashboard:signatures", _("Signatures")),
    ("dashboard:templates", _("Templates")),
    ("dashboard:documents", _("Documents")),
    ("dashboard:connections", _("Connections")),
    ("dashboard:metrics", _("Metrics")),
    ("dashboard:billing", _("Billing")),
    ("dashboard:retention", _("Retention")),
    ("dashboard:subscriptions", _("Subscriptions")),
    ("dashboard:members", _("Members")),
]


def dashboard_view(view: Callable) -> Callable:
    """Login required; `request.membership` / `request.organization` set; no organization → a help page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        membership = tenancy.session_membership(request)
        if membership is None:
            return render(request, "dashboard/no_organization.html", status=200)
        tenancy.request_bind(request, membership)
        refused = refuse_unstorable_post(request)
        if refused is not None:
            return refused
        return view(request, *args, **kwargs)

    return wrapper


def can_write(request: HttpRequest) -> bool:
    return tenancy.can_write(getattr(request, "membership", None))


def can_manage(request: HttpRequest) -> bool:
    return tenancy.can_manage(getattr(request, "membership", None))


def require_write(request: HttpRequest) -> None:
    """Viewers never change anything: a write attempt from one is a 404, like a missing object."""
    if not can_write(request):
        raise Http404("Not available for your role.")


def member_object(request: HttpRequest, queryset: QuerySet, **lookup: Any) -> Model:
    """The row matching `lookup` in one of the user's organizations, switching to that organization; else 404.

    A link to a run of another of the user's organizations (from an email, say) opens it
    instead of answering 404; a row of an organization the user is not in is a 404.
    Writes (POST and friends) only find rows of the current organization.
    """
    organization_ids = [m.organization_id for m in tenancy.session_memberships(request)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # A write acts only inside the current organization, whose role the view checked: never
        # switch first, or a viewer here who writes elsewhere could act on this organization's rows.
        organization_ids = [request.organization.pk]
    obj = queryset.filter(organization_id__in=organization_ids, **lookup).first()
    if obj is None:
        raise Http404("Not found.")
    if obj.organization_id != request.organization.pk:
        tenancy.session_choose(request, obj.organization_id)
    return obj


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context for the page shell: the organization switcher and role flags."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None) or tenancy.session_membership(request)
    return {
        "memberships": tenancy.session_memberships(request),
        "current": membership,
        "current_organization": membership.organization if membership else None,
        "can_write": tenancy.can_write(membership),
        "can_manage": tenancy.can_manage(membership),
        "dashboard_nav": [(name, label) for name, label in NAVIGATION if _reverses(name)],
    }


def _reverses(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True
