"""Operating at volume (issue 15): bulk retry/cancel with a confirmation and live progress; the retention
policy; outgoing event subscriptions with their deliveries' attempts.

A bulk action is chosen by filter, previewed (the confirmation says how many runs
it will touch), then confirmed; its page refreshes itself while the worker goes
through the runs. Owners set the retention policy; every member sees it.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import can_manage, dashboard_view, member_object, require_write
from docg.executions import bulk, retention, subscriptions
from docg.executions.choices import ExecutionStatus
from docg.executions.volume_models import (
    BULK_ACTIVE,
    BulkAction,
    BulkOperation,
    EventDelivery,
    EventSubscription,
    RetentionPolicy,
)
from docg.orgs.choices import Role
from docg.workflows.models import Workflow

FILTER_FIELDS = ("status", "workflow", "error_code")


def _filter_from(data) -> dict:
    chosen = {name: (data.get(name) or "").strip() for name in FILTER_FIELDS}
    return {name: value for name, value in chosen.items() if value}


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def bulk_new(request: HttpRequest) -> HttpResponse:
    """GET /runs/bulk/: choose runs by filter; POST previews (the count), POST with confirm acts."""
    require_write(request)
    source = request.POST if request.method == "POST" else request.GET
    action = source.get("action") or BulkAction.RETRY
    chosen = _filter_from(source)
    context = {
        "action": action if action in BulkAction.values else BulkAction.RETRY,
        "chosen": chosen,
        "from_step": (source.get("from_step") or "").strip(),
        "statuses": ExecutionStatus.choices,
        "workflows": Workflow.objects.filter(organization=request.organization).order_by("name"),
        "actions": BulkAction.choices,
        "active": BulkOperation.objects.filter(organization=request.organization, status__in=BULK_ACTIVE),
    }
    if request.method == "POST":
        try:
            if source.get("confirm"):
                operation = bulk.bulk_create(
                    organization=request.organization,
                    by=request.user,
                    action=context["action"],
                    filter=chosen,
                    from_step=context["from_step"],
                )
                return redirect("dashboard:bulk-detail", pk=operation.pk)
            context["preview"] = bulk.bulk_preview(
                organization=request.organization, action=context["action"], filter=chosen
            )
        except DocgError as exc:
            messages.error(request, exc.message)
    return render(request, "dashboard/volume/bulk_form.html", context)


@require_safe
@dashboard_view
def bulk_detail(request: HttpRequest, pk) -> HttpResponse:
    """GET /runs/bulk/<id>/: progress, refreshed while the operation runs."""
    operation = member_object(request, BulkOperation.objects.all(), pk=pk)
    failures = operation.items.filter(status="failed").select_related("execution")[:50]
    return render(
        request,
        "dashboard/volume/bulk_detail.html",
        {
            "operation": operation,
            "active": operation.status in BULK_ACTIVE,
            "pending": max(0, operation.total - operation.done - operation.failed - operation.canceled),
            "percent": round(100 * (operation.done + operation.failed + operation.canceled) / operation.total)
            if operation.total
            else 100,
            "failures": failures,
        },
    )


@require_POST
@dashboard_view
def bulk_cancel(request: HttpRequest, pk) -> HttpResponse:
    require_write(request)
    operation = member_object(request, BulkOperation.objects.all(), pk=pk)
    try:
        bulk.bulk_cancel(operation=operation, by=request.user)
        messages.success(request, _("The bulk operation was canceled; runs not reached yet are left alone."))
    except DocgError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:bulk-detail", pk=operation.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def retention_settings(request: HttpRequest) -> HttpResponse:
    """GET /settings/retention/: the policy; owners POST a new one."""
    is_owner = request.membership.role == Role.OWNER
    if request.method == "POST":
        if not is_owner:
            raise Http404("Not available for your role.")
        try:
            values = {name: _days(request.POST.get(name)) for name in ("run_days", "document_days")}
        except ValueError:
            messages.error(request, _("Enter a whole number of days (0 keeps forever), or leave it empty."))
        else:
            retention.retention_policy_set(organization=request.organization, by=request.user, **values)
            messages.success(request, _("Retention policy saved."))
            return redirect("dashboard:retention")
    policy = RetentionPolicy.objects.filter(organization=request.organization).first()
    run_days, document_days = retention.policy_days(request.organization.pk)
    return render(
        request,
        "dashboard/volume/retention.html",
        {
            "policy": policy,
            "is_owner": is_owner,
            "effective_run_days": run_days,
            "effective_document_days": document_days,
            "preview": retention.retention_purge(organization=request.organization, dry_run=True),
        },
    )


def _days(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    days = int(value)
    if days < 0 or days > 36_500:
        raise ValueError(value)
    return days


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def subscriptions_page(request: HttpRequest) -> HttpResponse:
    """GET /settings/subscriptions/: each subscription with its latest deliveries and their attempts.

    Owners and admins add one (POST); its secret is shown once, on the page that follows.
    """
    manage = can_manage(request)
    secret = None
    if request.method == "POST":
        if not manage:
            raise Http404("Not available for your role.")
        try:
            created = subscriptions.subscription_create(
                organization=request.organization,
                by=request.user,
                url=(request.POST.get("url") or "").strip(),
                event_types=request.POST.getlist("event_types"),
                description=(request.POST.get("description") or "").strip()[:200],
            )
            secret = created.secret
            messages.success(request, _("Subscription added. Copy its secret now: it is not shown again."))
        except DocgError as exc:
            messages.error(request, exc.message)
    rows = []
    for subscription in EventSubscription.objects.filter(organization=request.organization):
        deliveries = subscription.deliveries.prefetch_related("attempt_rows").order_by("-created_at")[:20]
        rows.append({"subscription": subscription, "deliveries": deliveries})
    return render(
        request,
        "dashboard/volume/subscriptions.html",
        {"rows": rows, "can_manage": manage, "secret": secret, "event_types": subscriptions.EVENT_TYPES},
    )


@require_POST
@dashboard_view
def delivery_resend(request: HttpRequest, pk) -> HttpResponse:
    if not can_manage(request):
        raise Http404("Not available for your role.")
    delivery = member_object(request, EventDelivery.objects.all(), pk=pk)
    subscriptions.delivery_resend(delivery=delivery, by=request.user)
    messages.success(request, _("The event will be sent again in a few seconds."))
    return redirect("dashboard:subscriptions")
