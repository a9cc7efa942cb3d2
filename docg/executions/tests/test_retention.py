"""Retention: the organization's policy, the batched purge, `manage.py purge --dry-run`, the audit chain after it."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from docg.audit.models import AuditEvent
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions import retention
from docg.executions.choices import ExecutionStatus, LogDomain, LogLevel
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db
POLICY = "/api/v1/retention-policy"


def old_run(cast, workflow, *, days: int, status=ExecutionStatus.COMPLETED, organization=None, parent=None):
    workflow.refresh_from_db()
    organization = organization or cast.acme
    execution = WorkflowExecution.objects.create(
        organization=organization,
        workflow=workflow,
        workflow_version=workflow.active_version,
        status=status,
        trigger_data={"customer": "ana"},
        parent_execution=parent,
    )
    for index, key in enumerate(("start", "prepare")):
        step = ExecutionStep.objects.create(organization=organization, execution=execution, node_key=key, index=index)
        for n in range(3):
            ExecutionLog.objects.create(
                organization=organization,
                execution=execution,
                step=step,
                timestamp=timezone.now(),
                level=LogLevel.OK,
                domain=LogDomain.STEP,
                message_human=f"line {n}",
            )
    WorkflowExecution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(days=days))
    return execution


def document(cast, execution, *, days: int) -> GeneratedDocument:
    doc = GeneratedDocument(organization=cast.acme, execution=execution, name="Contrato.pdf", content_type="a/pdf")
    doc.file.save(f"retention-test/{execution.pk}.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    doc.save()
    GeneratedDocument.objects.filter(pk=doc.pk).update(created_at=timezone.now() - timedelta(days=days))
    return doc


def test_owners_set_the_policy_others_read_it(cast, alice_api, settings):
    settings.RETENTION_RUN_DAYS, settings.RETENTION_DOCUMENT_DAYS = 0, 400
    body = alice_api.get(POLICY).json()
    assert body == {
        "run_days": None,
        "document_days": None,
        "effective_run_days": 0,
        "effective_document_days": 400,
        "default_run_days": 0,
        "default_document_days": 400,
    }
    response = alice_api.put(POLICY, {"run_days": 90, "document_days": None}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["effective_run_days"], response.json()["effective_document_days"]) == (90, 400)
    assert AuditEvent.objects.filter(organization=cast.acme, action="retention.policy_updated").exists()
    assert api_client_for(cast.bob).put(POLICY, {"run_days": 1, "document_days": 1}, format="json").status_code == 403
    assert api_client_for(cast.vera).get(POLICY).json()["run_days"] == 90
    assert alice_api.put(POLICY, {"run_days": -1, "document_days": 1}, format="json").status_code == 400
    # Another organization's policy is its own.
    assert api_client_for(cast.charlie).get(POLICY).json()["run_days"] is None


def test_the_purge_removes_what_is_past_the_policy_in_batches_and_keeps_the_audit(
    cast, alice_api, django_capture_on_commit_callbacks
):
    workflow = active_workflow(cast, PREPARE)
    alice_api.put(POLICY, {"run_days": 30, "document_days": 60}, format="json")
    expired = [old_run(cast, workflow, days=40) for _ in range(5)]
    SignatureRequest.objects.create(
        organization=cast.acme, execution=expired[0], provider="clicksign", signer_name="Ana", signer_email="a@b.co"
    )
    child = old_run(cast, workflow, days=1, parent=expired[1])
    recent = old_run(cast, workflow, days=10)
    still_running = old_run(cast, workflow, days=40, status=ExecutionStatus.PAUSED)
    old_doc = document(cast, expired[2], days=70)
    young_doc = document(cast, expired[3], days=40)
    globex_flow = active_workflow(cast, PREPARE, organization=cast.globex)
    theirs = old_run(cast, globex_flow, days=400, organization=cast.globex)

    out = io.StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert "Would delete 5 run(s) with 10 step(s) and 30 log line(s), and 1 document(s)." in out.getvalue()
    assert WorkflowExecution.objects.count() == 9

    with django_capture_on_commit_callbacks(execute=True):
        report = retention.retention_purge(batch_size=2)
    assert (report.runs, report.steps, report.logs, report.documents) == (5, 10, 30, 1)
    assert report.batches == 4  # 2 + 2 + 1 runs, then the document.
    left = set(WorkflowExecution.objects.values_list("pk", flat=True))
    assert left == {child.pk, recent.pk, still_running.pk, theirs.pk}
    assert not ExecutionStep.objects.filter(execution_id__in=[e.pk for e in expired]).exists()
    assert not ExecutionLog.objects.filter(execution_id__in=[e.pk for e in expired]).exists()
    assert not SignatureRequest.objects.exists()
    child.refresh_from_db()
    assert child.parent_execution_id is None
    # Documents: the old one is gone from the table and from storage; the young one stays (its run is gone).
    assert not GeneratedDocument.objects.filter(pk=old_doc.pk).exists()
    assert not default_storage.exists(old_doc.file.name)
    young_doc.refresh_from_db()
    assert young_doc.execution_id is None and default_storage.exists(young_doc.file.name)
    default_storage.delete(young_doc.file.name)

    # The audit trail keeps everything and still verifies.
    purges = AuditEvent.objects.filter(organization=cast.acme, action="retention.purged")
    assert sum(e.event_metadata["runs"] for e in purges) == 5
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "OK" in out.getvalue()
    assert retention.retention_purge().runs == 0


def test_nothing_goes_without_a_policy_or_default(cast, settings):
    settings.RETENTION_RUN_DAYS = settings.RETENTION_DOCUMENT_DAYS = 0
    old_run(cast, active_workflow(cast, PREPARE), days=4000)
    assert retention.retention_purge().runs == 0
    settings.RETENTION_RUN_DAYS = 365
    assert retention.retention_purge(dry_run=True).runs == 1
    assert WorkflowExecution.objects.count() == 1


def test_the_purge_is_enqueued_once_per_interval_across_workers(monkeypatch):
    import dramatiq
    from django.core.cache import cache

    actor = dramatiq.get_broker().get_actor("docg.retention_purge")
    sent = []
    monkeypatch.setattr(actor, "send", lambda: sent.append(1))
    cache.delete(retention.CLAIM_KEY)
    assert retention.retention_tick() is True
    assert retention.retention_tick() is False
    assert sent == [1]
    cache.delete(retention.CLAIM_KEY)
