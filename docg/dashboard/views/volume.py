"""Operating at volume (issue 15): bulk retry/cancel with a confirmation and live progress; the retention
policy; outgoing event subscriptions with their deliveries' attempts.

A bulk action is chosen by filter, previewed (the confirmation says how many runs
it will touch), then confirmed; its page follows the operation's progress events
while the worker goes through the runs. Owners set the retention policy; every member sees it.
"""

import uuid
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import can_manage, dashboard_view, member_object, require_write
from docg.executions import bulk, retention, subscriptions
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.executions.streams import organization_key, stream_position
from docg.executions.volume_models import (
    BULK_ACTIVE,
    BulkAction,
    BulkOperation,
    BulkStatus,
    EventDelivery,
    EventSubscription,
    RetentionPolicy,
)
from docg.orgs.choices import Role
from docg.workflows.models import Workflow

FILTER_FIELDS = ("status", "workflow", "error_code", "date_from", "date_to")
# The runs list posts its selection here: the runs ticked (`ids`) or every run its filters match.
SCOPE_SELECTED, SCOPE_FILTER = "selected", "filter"


def _filter_from(data) -> dict:
    """The filter fields as typed (for the form), valid ones only: a bad id or day is dropped, never a 500."""
    chosen = {name: (data.get(name) or "").strip() for name in FILTER_FIELDS}
    if chosen["workflow"] and _uuid(chosen["workflow"]) is None:
        chosen["workflow"] = ""
    for name in ("date_from", "date_to"):
        if chosen[name] and _day(chosen[name]) is None:
            chosen[name] = ""
    return {name: value for name, value in chosen.items() if value}


def _ids_from(data) -> list[str]:
    """The runs ticked on the runs list, as ids (anything else is dropped; the service checks ownership)."""
    ids = []
    for raw in data.getlist("ids")[: bulk.max_runs() + 1]:
        pk = _uuid(raw)
        if pk is not None and str(pk) not in ids:
            ids.append(str(pk))
    return ids


def _bulk_filter(chosen: dict, ids: list[str]) -> dict:
    """The service's filter: ticked runs by id, or the list's filters (days read in the current time zone,
    as the runs list reads them, so "all that match" is the list's own count)."""
    if ids:
        return {"ids": ids}
    chosen_filter = {name: chosen[name] for name in ("status", "workflow", "error_code") if name in chosen}
    if chosen.get("date_from"):
        chosen_filter["created_after"] = _day_start(_day(chosen["date_from"]))
    if chosen.get("date_to"):
        chosen_filter["created_before"] = _day_start(_day(chosen["date_to"]) + timedelta(days=1)) - (
            timedelta(microseconds=1)
        )
    return chosen_filter


def _retry_steps(organization, chosen_filter: dict) -> list[tuple[str, str]]:
    """The steps a retry may start from, when the runs share one workflow (its active version's steps)."""
    workflow_id = chosen_filter.get("workflow")
    if not workflow_id and chosen_filter.get("ids"):
        workflows = set(
            WorkflowExecution.objects.filter(organization=organization, pk__in=chosen_filter["ids"])
            .order_by()
            .values_list("workflow_id", flat=True)
            .distinct()[:2]
        )
        workflow_id = workflows.pop() if len(workflows) == 1 else None
    workflow = (
        Workflow.objects.filter(organization=organization, pk=workflow_id).select_related("active_version").first()
        if workflow_id
        else None
    )
    if workflow is None or workflow.active_version is None:
        return []
    nodes = (workflow.active_version.definition or {}).get("nodes", [])
    return [(node["key"], node.get("label") or node["key"]) for node in nodes[1:]]


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def bulk_new(request: HttpRequest) -> HttpResponse:
    """GET /runs/bulk/: choose runs by filter; POST previews (the count), POST with confirm acts.

    The runs list posts here too, with the runs ticked (`ids`) or `scope=filter` for every
    run its filters match: the answer is the confirmation, which says how many runs the
    action will touch. Confirming re-counts: if the count changed meanwhile, the new count is
    shown for another confirmation instead of acting on runs nobody confirmed.
    """
    require_write(request)
    source = request.POST if request.method == "POST" else request.GET
    action = source.get("action") or BulkAction.RETRY
    chosen = _filter_from(source)
    ids = [] if source.get("scope") == SCOPE_FILTER else _ids_from(source)
    if request.method == "POST" and source.get("scope") == SCOPE_SELECTED and not ids:
        messages.error(request, _("Tick the runs to act on, or choose all the runs that match the filter."))
        return redirect(f"{reverse('dashboard:executions')}?{urlencode(chosen)}")
    chosen_filter = _bulk_filter(chosen, ids)
    context = {
        "action": action if action in BulkAction.values else BulkAction.RETRY,
        "chosen": chosen,
        "ids": ids,
        "from_step": (source.get("from_step") or "").strip(),
        "retry_steps": _retry_steps(request.organization, chosen_filter),
        "statuses": ExecutionStatus.choices,
        "workflows": Workflow.objects.filter(organization=request.organization).order_by("name"),
        "actions": BulkAction.choices,
        "active": BulkOperation.objects.filter(organization=request.organization, status__in=BULK_ACTIVE),
    }
    if request.method == "POST":
        try:
            preview = bulk.bulk_preview(
                organization=request.organization, action=context["action"], filter=chosen_filter
            )
            if source.get("confirm") and source.get("expected") == f"{context['action']}:{preview['count']}":
                operation = bulk.bulk_create(
                    organization=request.organization,
                    by=request.user,
                    action=context["action"],
                    filter=chosen_filter,
                    from_step=context["from_step"],
                )
                return redirect("dashboard:bulk-detail", pk=operation.pk)
            if source.get("confirm"):
                messages.warning(request, _("The runs this would touch changed since you counted them: check again."))
            context["preview"] = preview
        except DocgError as exc:
            messages.error(request, exc.message)
    return render(request, "dashboard/volume/bulk_form.html", context)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@require_safe
@dashboard_view
def bulk_detail(request: HttpRequest, pk) -> HttpResponse:
    """GET /runs/bulk/<id>/: progress, live from the organization's event stream while the operation runs."""
    operation = member_object(request, BulkOperation.objects.all(), pk=pk)
    # Where the organization's stream is before the counts are read: the page follows it from
    # there, so a batch that commits in between reaches the page as an event (docg.executions.bulk).
    position = ""
    if operation.status in BULK_ACTIVE:
        position = stream_position(organization_key(operation.organization_id))
        operation.refresh_from_db()
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
            "stream_position": position,
            "status_labels": {value: str(label) for value, label in BulkStatus.choices},
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
