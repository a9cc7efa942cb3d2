"""Billing: the organization's plan, this month's runs against its limit, and Stripe checkout.

Every member sees the plan and usage; only owners and admins get the buttons that
open Stripe (Checkout to subscribe, the customer portal to change or cancel).
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import can_manage, dashboard_view
from docg.orgs.billing import PAID_STATUSES, billing_summary
from docg.providers.stripe.billing import billing_checkout_start, billing_portal_link


def _require_manage(request: HttpRequest) -> None:
    if not can_manage(request):
        raise Http404("Not available for your role.")


@require_safe
@dashboard_view
def billing(request: HttpRequest) -> HttpResponse:
    """GET /billing/: plan, usage this month, and (for owners and admins) the ways to change the plan."""
    summary = billing_summary(organization=request.organization)
    usage = summary["usage"]
    percent = None
    if usage["limit"]:
        percent = min(100, round(100 * usage["monthly_executions"] / usage["limit"]))
    returned = request.GET.get("checkout")
    return render(
        request,
        "dashboard/billing/page.html",
        {
            "summary": summary,
            "usage": usage,
            "percent": percent,
            "at_limit": usage["remaining"] == 0,
            # A subscriber changes plan in Stripe's portal; a second Checkout would make a second subscription.
            "subscribed": summary["has_customer"] and summary["subscription_status"] in PAID_STATUSES,
            "checkout_returned": returned if returned in ("success", "canceled") else "",
        },
    )


@require_POST
@dashboard_view
def billing_checkout(request: HttpRequest) -> HttpResponse:
    """POST /billing/checkout/ {plan}: off to Stripe Checkout."""
    _require_manage(request)
    try:
        url = billing_checkout_start(
            organization=request.organization, by=request.user, plan=request.POST.get("plan", "")
        )
    except DocgError as exc:
        messages.error(request, _("Could not open the checkout: %(reason)s") % {"reason": exc.message})
        return redirect("dashboard:billing")
    return redirect(url)


@require_POST
@dashboard_view
def billing_portal(request: HttpRequest) -> HttpResponse:
    """POST /billing/portal/: off to Stripe's customer portal (card, invoices, plan changes, cancel)."""
    _require_manage(request)
    try:
        url = billing_portal_link(organization=request.organization, by=request.user)
    except DocgError as exc:
        messages.error(request, _("Could not open the billing portal: %(reason)s") % {"reason": exc.message})
        return redirect("dashboard:billing")
    return redirect(url)
