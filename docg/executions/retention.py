"""Retention (issue 15): ended runs and generated documents go once past their organization's policy.

The purge works in batches of RETENTION_BATCH_SIZE runs (or documents), each in a
short transaction of its own, so no lock is held for long. A run goes with its
steps, logs, approvals and signature requests; its child retries keep existing
(their link to it becomes empty). A document's file leaves storage (S3 included)
once the transaction that deleted its row has committed, so a rolled-back batch
never loses a file whose row remains. Audit rows are never deleted: each batch
adds one, and the chain stays verifiable.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from docg.audit.services import audit_log, user_actor
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import TERMINAL
from docg.executions.volume_models import BulkOperationItem, RetentionPolicy
from docg.orgs.models import Organization

logger = logging.getLogger(__name__)

ACTION_PURGED = "retention.purged"
ACTION_POLICY_UPDATED = "retention.policy_updated"
CLAIM_KEY = "docg:retention:purge_claim"


@dataclass
class PurgeReport:
    runs: int = 0
    steps: int = 0
    logs: int = 0
    documents: int = 0
    files: list[str] = field(default_factory=list)
    batches: int = 0
    longest_batch_seconds: float = 0.0
    organizations: dict[str, dict[str, int]] = field(default_factory=dict)


def policy_days(organization_id: Any) -> tuple[int, int]:
    """(run days, document days) for the organization; 0 keeps forever."""
    policy = RetentionPolicy.objects.filter(organization_id=organization_id).first()
    run_days = policy.run_days if policy and policy.run_days is not None else settings.RETENTION_RUN_DAYS
    doc_days = policy.document_days if policy and policy.document_days is not None else settings.RETENTION_DOCUMENT_DAYS
    return int(run_days or 0), int(doc_days or 0)


@transaction.atomic
def retention_policy_set(*, organization, by, run_days: int | None, document_days: int | None) -> RetentionPolicy:
    org_id = getattr(organization, "pk", organization)
    policy, _created = RetentionPolicy.objects.select_for_update().get_or_create(organization_id=org_id)
    policy.run_days, policy.document_days = run_days, document_days
    policy.updated_by = by if getattr(by, "is_authenticated", False) else None
    policy.save()
    audit_log(
        organization=org_id,
        action=ACTION_POLICY_UPDATED,
        target_type="retention_policy",
        target_id=policy.pk,
        metadata={"run_days": run_days, "document_days": document_days},
        **user_actor(by),
    )
    return policy


def expired_runs(organization_id: Any, *, now=None):
    run_days, _ = policy_days(organization_id)
    if not run_days:
        return WorkflowExecution.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=run_days)
    return WorkflowExecution.objects.filter(organization_id=organization_id, status__in=TERMINAL, created_at__lt=cutoff)


def expired_documents(organization_id: Any, *, now=None):
    _, doc_days = policy_days(organization_id)
    if not doc_days:
        return GeneratedDocument.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=doc_days)
    return GeneratedDocument.objects.filter(organization_id=organization_id, created_at__lt=cutoff)


def retention_purge(
    *, organization=None, dry_run: bool = False, now=None, batch_size: int | None = None
) -> PurgeReport:
    """Delete (or, with dry_run, count) what is past every organization's policy (or one's)."""
    now = now or timezone.now()
    size = batch_size or settings.RETENTION_BATCH_SIZE
    report = PurgeReport()
    orgs = Organization.objects.all()
    if organization is not None:
        orgs = orgs.filter(pk=getattr(organization, "pk", organization))
    for org_id in orgs.values_list("pk", flat=True):
        runs, documents = expired_runs(org_id, now=now), expired_documents(org_id, now=now)
        before = (report.runs, report.documents)
        if dry_run:
            report.runs += runs.count()
            report.steps += ExecutionStep.objects.filter(execution__in=runs).count()
            report.logs += ExecutionLog.objects.filter(execution__in=runs).count()
            report.documents += documents.count()
        else:
            while _purge_batch(org_id, runs, documents.none(), size, report):
                pass
            while _purge_batch(org_id, runs.none(), documents, size, report):
                pass
        counted = {"runs": report.runs - before[0], "documents": report.documents - before[1]}
        if counted["runs"] or counted["documents"]:
            logger.info("Retention %s organization %s: %s", "would purge" if dry_run else "purged", org_id, counted)
        if any(counted.values()):
            report.organizations[str(org_id)] = counted
    return report


def _purge_batch(org_id, runs, documents, size: int, report: PurgeReport) -> bool:
    """One short transaction: up to `size` runs or documents; False when there was nothing left."""
    started = time.monotonic()
    with transaction.atomic():
        run_ids = list(runs.order_by("created_at").values_list("pk", flat=True)[:size])
        doc_rows = list(documents.order_by("created_at").values_list("pk", "file")[:size])
        if not run_ids and not doc_rows:
            return False
        logs = steps = 0
        if run_ids:
            logs = ExecutionLog.objects.filter(execution_id__in=run_ids).delete()[0]
            WorkflowApproval.objects.filter(execution_id__in=run_ids).delete()
            steps = ExecutionStep.objects.filter(execution_id__in=run_ids).delete()[0]
            SignatureRequest.objects.filter(execution_id__in=run_ids).delete()
            BulkOperationItem.objects.filter(execution_id__in=run_ids).delete()
            WorkflowExecution.objects.filter(pk__in=run_ids).delete()
        files = [name for _pk, name in doc_rows if name]
        if doc_rows:
            GeneratedDocument.objects.filter(pk__in=[pk for pk, _name in doc_rows]).delete()
            transaction.on_commit(lambda: _delete_files(files))
        audit_log(
            organization=org_id,
            action=ACTION_PURGED,
            target_type="organization",
            target_id=org_id,
            metadata={"runs": len(run_ids), "steps": steps, "logs": logs, "documents": len(doc_rows)},
        )
    report.runs += len(run_ids)
    report.steps += steps
    report.logs += logs
    report.documents += len(doc_rows)
    report.files += files
    report.batches += 1
    report.longest_batch_seconds = max(report.longest_batch_seconds, time.monotonic() - started)
    return True


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # A file storage hiccup leaves an orphan file, never a row without its file.
            logger.exception("Could not delete the purged document file %s", name)


def retention_tick() -> bool:
    """Enqueue one purge unless another worker did within this interval (as the Forms poll)."""
    import dramatiq

    interval = float(settings.RETENTION_INTERVAL_SECONDS)
    if not cache.add(CLAIM_KEY, "1", timeout=max(1, int(interval))):
        return False
    # By name: the actors module sits above the services it calls.
    dramatiq.get_broker().get_actor("docg.retention_purge").send()
    return True
