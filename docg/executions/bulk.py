"""Bulk retry and cancel (issue 15): one action over up to BULK_MAX_RUNS runs of an organization.

Creating an operation fixes its runs (one pending item per run). A worker acts on
them in batches: each batch locks its items, retries or cancels their runs through
the single-run services in docg.executions.control, and marks the items done in
the same transaction. A worker killed mid-batch rolls the whole batch back (the
new runs and their start messages included), so after the restart every run is
acted on exactly once. Each batch pushes the operation's lease forward; the sweep
re-sends an active operation whose lease passed (its message died with the worker).

Audited: the creation (who, the filter, how many runs), each batch's outcome run by
run, a cancel, a resumption after a worker died, and the end. Each change of the counts is published after commit as
`bulk_operation.progress` on the organization's event stream, which the
operation's dashboard page follows.
"""

import logging
import time
from datetime import timedelta
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from docg.audit.choices import ActorType
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.executions import control
from docg.executions.events import publish_organization_event
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL, IllegalTransition, TransitionConflict
from docg.executions.volume_models import (
    BULK_ACTIVE,
    BulkAction,
    BulkItemStatus,
    BulkOperation,
    BulkOperationItem,
    BulkStatus,
)
from docg.orgs.billing import plan_limit, runs_this_month
from docg.orgs.models import Organization
from docg.workflows.models import Workflow

logger = logging.getLogger(__name__)

ACTION_CREATED = "bulk_operation.created"
ACTION_CANCELED = "bulk_operation.canceled"
ACTION_FINISHED = "bulk_operation.finished"
ACTION_BATCH = "bulk_operation.batch"
ACTION_RESUMED = "bulk_operation.resumed"
# On the organization's stream after each change of an operation's counts or status.
EVENT_PROGRESS = "bulk_operation.progress"
SAMPLE_SIZE = 10


def max_runs() -> int:
    return int(getattr(settings, "BULK_MAX_RUNS", 10_000))


def batch_size() -> int:
    return int(getattr(settings, "BULK_BATCH_SIZE", 50))


def lease_seconds() -> float:
    return float(getattr(settings, "BULK_LEASE_SECONDS", 60))


# --- selecting runs ---------------------------------------------------------------


def bulk_selection(*, organization: Organization | Any, action: str, filter: dict) -> QuerySet[WorkflowExecution]:
    """The organization's runs the filter names that the action applies to (retry: ended runs; cancel: live ones).

    Ids that are not the organization's (another organization's workflow or runs) are a 400 naming them.
    """
    org_id = getattr(organization, "pk", organization)
    runs = WorkflowExecution.objects.filter(organization_id=org_id)
    workflow = filter.get("workflow")
    if workflow:
        if not Workflow.objects.filter(organization_id=org_id, pk=workflow).exists():
            raise DocgError("bulk.unknown_workflow", _("No such workflow."), details={"workflow": str(workflow)})
        runs = runs.filter(workflow_id=workflow)
    ids = [str(i) for i in filter.get("ids") or []]
    if ids:
        found = {str(pk) for pk in runs.filter(pk__in=ids).values_list("pk", flat=True)}
        unknown = sorted(set(ids) - found)
        if unknown:
            raise DocgError("bulk.unknown_runs", _("Some runs do not exist."), details={"ids": unknown})
        runs = runs.filter(pk__in=ids)
    if filter.get("status"):
        runs = runs.filter(status=filter["status"])
    if filter.get("error_code"):
        runs = runs.filter(last_error_code=filter["error_code"])
    if filter.get("created_after"):
        runs = runs.filter(created_at__gte=filter["created_after"])
    if filter.get("created_before"):
        runs = runs.filter(created_at__lte=filter["created_before"])
    runs = runs.filter(status__in=TERMINAL) if action == BulkAction.RETRY else runs.exclude(status__in=TERMINAL)
    return runs.order_by("created_at", "pk")


def bulk_preview(*, organization, action: str, filter: dict) -> dict:
    """What a bulk action would touch: the count and a sample, without acting."""
    runs = bulk_selection(organization=organization, action=action, filter=filter)
    count = runs.count()
    return {
        "action": action,
        "count": count,
        "limit": max_runs(),
        "over_limit": count > max_runs(),
        "plan_remaining": _plan_remaining(organization) if action == BulkAction.RETRY else None,
        "sample": list(runs.order_by("-created_at")[:SAMPLE_SIZE]),
    }


def _plan_remaining(organization) -> int | None:
    """Runs the plan still starts this month (None: unlimited): each retry is a new run, and those past it fail."""
    org_id = getattr(organization, "pk", organization)
    plan = Organization.objects.filter(pk=org_id).values_list("plan", flat=True).first()
    limit = plan_limit(plan or "")
    return None if limit is None else max(0, limit - runs_this_month(organization=org_id))


# --- creating, cancelling ---------------------------------------------------------


def bulk_create(*, organization, by, action: str, filter: dict, from_step: str = "") -> BulkOperation:
    """Fix the runs of a new operation and queue its first batch.

    The organization row is locked first, so two clicks at once see each other: the
    second finds the first active on the same workflow and is a 409. An operation's
    workflow is the one its runs belong to (None when they span several, which then
    overlaps every workflow), so no run is ever in two active operations: a selection
    by ids and a filter on the same workflow cannot both retry one run.
    """
    org_id = getattr(organization, "pk", organization)
    if action not in BulkAction.values:
        raise DocgError("bulk.unknown_action", _("Unknown bulk action."), details={"action": action})
    if from_step and action != BulkAction.RETRY:
        raise DocgError("bulk.from_step_needs_retry", _("from_step only applies to a retry."))
    with transaction.atomic():
        Organization.objects.select_for_update().only("id").get(pk=org_id)
        runs = bulk_selection(organization=org_id, action=action, filter=filter)
        ids = list(runs.values_list("pk", flat=True)[: max_runs() + 1])
        if not ids:
            raise DocgError("bulk.no_runs", _("No run matches this filter."), details={"filter": _plain(filter)})
        if len(ids) > max_runs():
            raise DocgError(
                "bulk.too_many",
                _("A bulk operation acts on at most %(limit)d runs: narrow the filter.") % {"limit": max_runs()},
                details={"limit": max_runs()},
            )
        workflows = list(runs.order_by().values_list("workflow_id", flat=True).distinct()[:2])
        workflow_id = workflows[0] if len(workflows) == 1 else None
        active = BulkOperation.objects.filter(organization_id=org_id, status__in=BULK_ACTIVE)
        if workflow_id is not None:
            active = active.filter(Q(workflow_id=workflow_id) | Q(workflow__isnull=True))
        running = active.values_list("pk", flat=True).first()
        if running:
            raise DocgError(
                "bulk.already_running",
                _("A bulk operation on these runs is already in progress: wait for it or cancel it."),
                status_code=409,
                details={"operation": str(running)},
            )
        now = timezone.now()
        operation = BulkOperation.objects.create(
            organization_id=org_id,
            action=action,
            workflow_id=workflow_id,
            filter=_plain(filter),
            from_step=from_step,
            total=len(ids),
            created_by=by if getattr(by, "is_authenticated", False) else None,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
        )
        BulkOperationItem.objects.bulk_create(
            [BulkOperationItem(organization_id=org_id, operation=operation, execution_id=pk) for pk in ids],
            batch_size=1000,
        )
        # The ids themselves are in each batch's audit row: the filter's copy would repeat up to 10,000 of them.
        named = {key: value for key, value in operation.filter.items() if key != "ids"}
        if "ids" in operation.filter:
            named["ids_count"] = len(operation.filter["ids"])
        _audit(operation, ACTION_CREATED, by, total=len(ids), filter=named, from_step=from_step or None)
        _publish(operation)
        transaction.on_commit(lambda: _send(operation.pk))
    return operation


def bulk_cancel(*, operation: BulkOperation, by) -> BulkOperation:
    """Stop an operation: runs not reached yet are left alone (counted as canceled)."""
    with transaction.atomic():
        # Waits for a batch in flight: it holds this row until it commits.
        operation = BulkOperation.objects.select_for_update().get(pk=operation.pk)
        if operation.status not in BULK_ACTIVE:
            raise DocgError(
                "bulk.not_active",
                _("This bulk operation has already ended."),
                status_code=409,
                details={"status": operation.status},
            )
        now = timezone.now()
        skipped = operation.items.filter(status=BulkItemStatus.PENDING).update(
            status=BulkItemStatus.CANCELED, updated_at=now
        )
        operation.canceled = F("canceled") + skipped
        operation.status = BulkStatus.CANCELED
        operation.finished_at = now
        operation.save(update_fields=["canceled", "status", "finished_at", "updated_at"])
        operation.refresh_from_db()
        _audit(operation, ACTION_CANCELED, by, done=operation.done, failed=operation.failed, canceled=skipped)
        _publish(operation)
    return operation


# --- the worker's side --------------------------------------------------------------


def bulk_batch(*, operation_id: Any) -> bool:
    """Act on the next batch of pending items in one transaction; True while items remain."""
    with transaction.atomic():
        operation = BulkOperation.objects.select_for_update().filter(pk=operation_id).first()
        if operation is None or operation.status not in BULK_ACTIVE:
            return False
        now = timezone.now()
        if operation.status == BulkStatus.QUEUED:
            operation.status = BulkStatus.RUNNING
            operation.started_at = now
        operation.lease_expires_at = now + timedelta(seconds=lease_seconds())
        items = list(
            operation.items.select_for_update(skip_locked=True, of=("self",))
            .select_related("execution__workflow")
            .filter(status=BulkItemStatus.PENDING)
            .order_by("created_at", "pk")[: batch_size()]
        )
        by = operation.created_by
        done = failed = 0
        outcomes: dict[str, list] = {"done": [], "failed": []}
        for item in items:
            try:
                with transaction.atomic():
                    item.result_execution = _act(operation, item.execution, by)
                item.status = BulkItemStatus.DONE
                done += 1
                outcomes["done"].append(str(item.execution_id))
            except (DocgError, IllegalTransition, TransitionConflict) as exc:
                item.status = BulkItemStatus.FAILED
                item.error_code = getattr(exc, "code", "") or "execution.illegal_transition"
                item.error_human = str(getattr(exc, "message", "") or exc)
                failed += 1
                outcomes["failed"].append({"execution": str(item.execution_id), "error_code": item.error_code})
            except Exception as exc:  # One broken run must not stall the thousands after it.
                logger.exception("Bulk operation %s could not act on run %s", operation.pk, item.execution_id)
                item.status = BulkItemStatus.FAILED
                item.error_code = "bulk.unexpected"
                item.error_human = str(exc)[:500]
                failed += 1
                outcomes["failed"].append({"execution": str(item.execution_id), "error_code": item.error_code})
            item.updated_at = now
        BulkOperationItem.objects.bulk_update(
            items, ["status", "result_execution", "error_code", "error_human", "updated_at"]
        )
        operation.done += done
        operation.failed += failed
        if items:
            # Each batch's outcome, run by run, commits with it: the trail names every run an operation touched.
            _audit(operation, ACTION_BATCH, None, runs=outcomes["done"], failures=outcomes["failed"])
        remaining = operation.items.filter(status=BulkItemStatus.PENDING).exists()
        if not remaining:
            operation.status = BulkStatus.COMPLETED
            operation.finished_at = timezone.now()
            _audit(operation, ACTION_FINISHED, None, done=operation.done, failed=operation.failed)
        operation.save()
        _publish(operation)
    return remaining


def _act(operation: BulkOperation, execution: WorkflowExecution, by) -> WorkflowExecution | None:
    if operation.action == BulkAction.RETRY:
        return control.execution_retry(execution=execution, by=by, from_step=operation.from_step)
    control.execution_cancel(execution=execution, by=by, reason=f"bulk operation {operation.pk}")
    return None


def bulk_work(*, operation_id: Any, budget_seconds: float = 10.0) -> None:
    """The actor's body: batches for up to `budget_seconds`, then a fresh message for the rest."""
    deadline = time.monotonic() + budget_seconds
    while bulk_batch(operation_id=operation_id):
        if time.monotonic() > deadline:
            _send(operation_id)
            return


def bulk_sweep(*, limit: int = 100) -> list[str]:
    """Re-send active operations whose lease passed (their worker died); return their ids."""
    now = timezone.now()
    with transaction.atomic():
        operations = list(
            BulkOperation.objects.select_for_update(skip_locked=True)
            .filter(status__in=BULK_ACTIVE, lease_expires_at__lt=now)
            .only("pk", "organization_id", "action", "done", "failed")[:limit]
        )
        stale = [operation.pk for operation in operations]
        BulkOperation.objects.filter(pk__in=stale).update(lease_expires_at=now + timedelta(seconds=lease_seconds()))
        for operation in operations:
            # Resumed by the system, where its batches had stopped: the trail says why they went on.
            _audit(operation, ACTION_RESUMED, None, done=operation.done, failed=operation.failed)
            transaction.on_commit(lambda pk=operation.pk: _send(pk))
    if stale:
        logger.warning("Re-sent %d bulk operation(s) whose lease had expired", len(stale))
    return [str(pk) for pk in stale]


def _send(operation_id: Any) -> None:
    # By name: the actors module sits above the services it calls.
    dramatiq.get_broker().get_actor("docg.bulk_operation").send(str(operation_id))


def _publish(operation: BulkOperation) -> None:
    """The operation's counts on its organization's live stream once this transaction commits (its page follows)."""
    publish_organization_event(
        operation.organization_id,
        {
            "event_type": EVENT_PROGRESS,
            "bulk_operation_id": str(operation.pk),
            "action": operation.action,
            "status": operation.status,
            "total": operation.total,
            "done": operation.done,
            "failed": operation.failed,
            "canceled": operation.canceled,
            "pending": max(0, operation.total - operation.done - operation.failed - operation.canceled),
        },
    )


def _audit(operation: BulkOperation, action: str, by, **metadata) -> None:
    actor = user_actor(by) if by is not None else {"actor_type": ActorType.SYSTEM, "actor_id": ""}
    audit_log(
        organization=operation.organization_id,
        action=action,
        target_type="bulk_operation",
        target_id=operation.pk,
        metadata={"action": operation.action, **metadata},
        **actor,
    )


def _plain(filter: dict) -> dict:
    """The filter as JSON (dates as ISO strings, ids as strings)."""
    plain = {}
    for key, value in filter.items():
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            plain[key] = [str(v) for v in value]
        elif hasattr(value, "isoformat"):
            plain[key] = value.isoformat()
        else:
            plain[key] = str(value)
    return plain
