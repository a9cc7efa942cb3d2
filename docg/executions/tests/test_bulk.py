"""Bulk retry and cancel: `POST /api/v1/executions/bulk` and `/api/v1/bulk-operations` (issue 15)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from docg.audit.models import AuditEvent
from docg.audit.services import audit_verify
from docg.executions import bulk
from docg.executions.choices import ExecutionStatus
from docg.executions.models import BulkOperation, BulkOperationItem, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status, wait_until

BULK = "/api/v1/executions/bulk"


def failed_runs(cast, workflow, count: int, *, error_code: str = "provider.down", organization=None) -> list:
    """Runs that ended in failure, written directly (the engine's own tests cover how runs fail)."""
    organization = organization or cast.acme
    workflow.refresh_from_db()
    runs = WorkflowExecution.objects.bulk_create(
        [
            WorkflowExecution(
                organization=organization,
                workflow=workflow,
                workflow_version=workflow.active_version,
                status=ExecutionStatus.FAILED,
                last_error_code=error_code,
                trigger_data={"customer": f"c{i}"},
            )
            for i in range(count)
        ]
    )
    return [str(r.pk) for r in runs]


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.django_db
def test_dry_run_counts_and_samples_without_acting(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    failed_runs(cast, workflow, 12)
    failed_runs(cast, workflow, 3, error_code="data.invalid")
    before = WorkflowExecution.objects.count()

    body = {"action": "retry", "filter": {"status": "failed", "error_code": "provider.down"}, "dry_run": True}
    response = alice_api.post(BULK, body, format="json")
    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["count"] == 12
    assert preview["over_limit"] is False
    assert preview["plan_remaining"] == 100  # The free plan's month, none started yet: every retry is a new run.
    assert len(preview["sample"]) == bulk.SAMPLE_SIZE
    assert WorkflowExecution.objects.count() == before
    assert not BulkOperation.objects.exists()
    body["filter"]["created_after"] = "2020-01-01T00:00:00+14:00"
    assert alice_api.post(BULK, body, format="json").json()["count"] == 12
    body["filter"]["created_before"] = "2020-01-02T00:00:00Z"
    assert alice_api.post(BULK, body, format="json").json()["count"] == 0
    # Cancel only reaches live runs: none of these (and starts no run the plan counts).
    body["action"] = "cancel"
    assert alice_api.post(BULK, body, format="json").json()["count"] == 0
    assert alice_api.post(BULK, body, format="json").json()["plan_remaining"] is None


@pytest.mark.django_db
def test_retry_links_each_parent_once_and_counts_progress(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    parents = failed_runs(cast, workflow, 7)
    other = failed_runs(cast, active_workflow(cast, PREPARE, name="other"), 2)

    response = alice_api.post(
        BULK, {"action": "retry", "filter": {"workflow": str(workflow.pk), "status": "failed"}}, format="json"
    )
    assert response.status_code == 202, response.json()
    operation = response.json()
    assert (operation["status"], operation["total"], operation["pending"]) == ("queued", 7, 7)

    # The worker's side, in this process: batches of 3.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "batch_size", lambda: 3)
        assert bulk.bulk_batch(operation_id=operation["id"]) is True
        progress = alice_api.get(f"/api/v1/bulk-operations/{operation['id']}").json()
        assert (progress["status"], progress["done"], progress["pending"]) == ("running", 3, 4)
        bulk.bulk_work(operation_id=operation["id"])

    done = alice_api.get(f"/api/v1/bulk-operations/{operation['id']}").json()
    assert (done["status"], done["done"], done["failed"], done["pending"]) == ("completed", 7, 0, 0)
    assert done["finished_at"]
    children = WorkflowExecution.objects.filter(parent_execution__isnull=False)
    assert sorted(str(c.parent_execution_id) for c in children) == sorted(parents)
    assert not children.filter(parent_execution_id__in=other).exists()
    assert {c.triggered_by_id for c in children} == {cast.alice.pk}

    items = alice_api.get(f"/api/v1/bulk-operations/{operation['id']}/items").json()["results"]
    assert {i["status"] for i in items} == {"done"}
    assert {i["result_execution"] for i in items} == {str(c.pk) for c in children}

    actions = list(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert actions.count("execution.retried") == 7
    assert "bulk_operation.created" in actions and "bulk_operation.finished" in actions
    assert audit_verify(organization_id=cast.acme.pk)[1] is None
    # Done: a second pass does nothing.
    assert bulk.bulk_batch(operation_id=operation["id"]) is False
    assert WorkflowExecution.objects.filter(parent_execution__isnull=False).count() == 7


@pytest.mark.django_db
def test_bulk_cancel_stops_live_runs_and_reports_those_it_could_not(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    live = [
        alice_api.post(f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {}}, format="json").json()["id"]
        for _ in range(3)
    ]
    response = alice_api.post(BULK, {"action": "cancel", "filter": {"ids": live}}, format="json")
    assert response.status_code == 202, response.json()
    # One run ends between the selection and the batch: its item fails, the others go on.
    WorkflowExecution.objects.filter(pk=live[0]).update(status=ExecutionStatus.COMPLETED)
    bulk.bulk_work(operation_id=response.json()["id"])

    operation = BulkOperation.objects.get(pk=response.json()["id"])
    assert (operation.status, operation.done, operation.failed) == ("completed", 2, 1)
    failed = operation.items.get(status="failed")
    assert (str(failed.execution_id), failed.error_code) == (live[0], "execution.illegal_transition")
    assert set(WorkflowExecution.objects.filter(pk__in=live[1:]).values_list("status", flat=True)) == {"canceled"}


@pytest.mark.django_db
def test_canceling_an_operation_leaves_the_rest_alone(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    failed_runs(cast, workflow, 5)
    operation = alice_api.post(BULK, {"action": "retry", "filter": {"status": "failed"}}, format="json").json()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "batch_size", lambda: 2)
        bulk.bulk_batch(operation_id=operation["id"])

    response = alice_api.post(f"/api/v1/bulk-operations/{operation['id']}/cancel")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["done"], response.json()["canceled"]) == ("canceled", 2, 3)
    assert bulk.bulk_batch(operation_id=operation["id"]) is False
    assert WorkflowExecution.objects.filter(parent_execution__isnull=False).count() == 2
    assert alice_api.post(f"/api/v1/bulk-operations/{operation['id']}/cancel").status_code == 409
    assert AuditEvent.objects.filter(action="bulk_operation.canceled", target_id=operation["id"]).exists()


@pytest.mark.django_db
def test_limits_one_active_operation_per_workflow_and_at_most_the_maximum(cast, alice_api, settings):
    workflow = active_workflow(cast, PREPARE)
    failed_runs(cast, workflow, 4)
    body = {"action": "retry", "filter": {"workflow": str(workflow.pk)}}
    assert alice_api.post(BULK, body, format="json").status_code == 202
    # The double click.
    second = alice_api.post(BULK, body, format="json")
    assert (second.status_code, error_code(second)) == (409, "bulk.already_running")
    assert BulkOperation.objects.count() == 1

    settings.BULK_MAX_RUNS = 3
    other = active_workflow(cast, PREPARE, name="other")
    failed_runs(cast, other, 4)
    too_many = alice_api.post(BULK, {"action": "retry", "filter": {"workflow": str(other.pk)}}, format="json")
    assert (too_many.status_code, error_code(too_many)) == (400, "bulk.too_many")
    preview = alice_api.post(
        BULK, {"action": "retry", "filter": {"workflow": str(other.pk)}, "dry_run": True}, format="json"
    )
    assert preview.json()["over_limit"] is True

    nothing = alice_api.post(BULK, {"action": "retry", "filter": {"error_code": "nope"}}, format="json")
    assert (nothing.status_code, error_code(nothing)) == (400, "bulk.no_runs")


@pytest.mark.django_db
def test_another_organizations_runs_and_operations_are_out_of_reach(cast, alice_api, vera_api):
    globex_flow = active_workflow(cast, PREPARE, organization=cast.globex)
    globex_runs = failed_runs(cast, globex_flow, 2, organization=cast.globex)
    charlie = api_client_for(cast.charlie)
    theirs = charlie.post(BULK, {"action": "retry", "filter": {"status": "failed"}}, format="json").json()

    by_workflow = alice_api.post(BULK, {"action": "retry", "filter": {"workflow": str(globex_flow.pk)}}, format="json")
    assert (by_workflow.status_code, error_code(by_workflow)) == (400, "validation_error")
    assert str(globex_flow.pk) in str(by_workflow.json()["error"]["details"])
    by_ids = alice_api.post(BULK, {"action": "retry", "filter": {"ids": globex_runs}, "dry_run": True}, format="json")
    assert (by_ids.status_code, error_code(by_ids)) == (400, "validation_error")
    assert globex_runs[0] in str(by_ids.json()["error"]["details"])
    assert alice_api.get(f"/api/v1/bulk-operations/{theirs['id']}").status_code == 404
    assert alice_api.post(f"/api/v1/bulk-operations/{theirs['id']}/cancel").status_code == 404
    assert alice_api.get("/api/v1/bulk-operations").json()["results"] == []

    failed_runs(cast, active_workflow(cast, PREPARE), 1)
    assert vera_api.post(BULK, {"action": "retry", "filter": {}}, format="json").status_code == 403


@pytest.mark.django_db
def test_the_sweep_resends_an_operation_whose_worker_died(cast, alice_api, monkeypatch):
    workflow = active_workflow(cast, PREPARE)
    failed_runs(cast, workflow, 2)
    operation = alice_api.post(BULK, {"action": "retry", "filter": {}}, format="json").json()
    sent = []
    monkeypatch.setattr(bulk, "_send", sent.append)
    assert bulk.bulk_sweep() == []  # The lease is fresh.
    BulkOperation.objects.filter(pk=operation["id"]).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert bulk.bulk_sweep() == [operation["id"]]
    assert BulkOperation.objects.get(pk=operation["id"]).lease_expires_at > timezone.now()
    resumed = AuditEvent.objects.get(action="bulk_operation.resumed", target_id=operation["id"])
    assert (resumed.actor_type, resumed.event_metadata["done"]) == ("system", 0)


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_operation_end_to_end(cast, worker, alice_api):
    workflow = active_workflow(cast, PREPARE)
    parents = failed_runs(cast, workflow, 5)
    operation = alice_api.post(BULK, {"action": "retry", "filter": {"ids": parents}}, format="json").json()
    wait_until(
        lambda: BulkOperation.objects.filter(pk=operation["id"], status="completed").exists(),
        timeout=30,
        what="the bulk operation to complete",
    )
    for child in WorkflowExecution.objects.filter(parent_execution__isnull=False):
        wait_for_status(child.pk, ExecutionStatus.COMPLETED, timeout=30)
    assert BulkOperationItem.objects.filter(status="done").count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize("path", [BULK, "/api/v1/executions/search", "/api/v1/executions/export.csv"])
def test_dates_past_what_postgresql_takes_are_400(alice_api, path):
    from tests.test_bad_input import BAD_MOMENTS

    for moment in BAD_MOMENTS:
        if path == BULK:
            body = {"action": "retry", "filter": {"created_after": moment}, "dry_run": True}
            response = alice_api.post(path, body, format="json")
        else:
            response = alice_api.get(path, {"created_after": moment, "q": "abc"})
        assert response.status_code == 400, (moment, response.content)


@pytest.mark.django_db
def test_each_batch_is_audited_run_by_run_and_published_live_for_its_organization_only(
    cast, alice_api, django_capture_on_commit_callbacks
):
    from docg.executions.streams import get_streams, organization_key, stream_position

    workflow = active_workflow(cast, PREPARE)
    parents = failed_runs(cast, workflow, 5)
    acme_key, globex_key = organization_key(cast.acme.pk), organization_key(cast.globex.pk)
    acme_from, globex_from = stream_position(acme_key).split(":")[1], stream_position(globex_key).split(":")[1]
    with django_capture_on_commit_callbacks(execute=True), pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_send", lambda pk: None)
        patch.setattr(bulk, "batch_size", lambda: 2)
        operation = alice_api.post(BULK, {"action": "retry", "filter": {"status": "failed"}}, format="json").json()
        bulk.bulk_work(operation_id=operation["id"])

    batches = AuditEvent.objects.filter(action="bulk_operation.batch", target_id=operation["id"]).order_by("sequence")
    assert [len(b.event_metadata["runs"]) for b in batches] == [2, 2, 1]
    assert sorted(r for b in batches for r in b.event_metadata["runs"]) == sorted(parents)
    assert all(b.event_metadata["failures"] == [] for b in batches)
    created = AuditEvent.objects.get(action="bulk_operation.created", target_id=operation["id"])
    assert (created.event_metadata["total"], created.actor_id) == (5, str(cast.alice.pk))
    assert audit_verify(organization_id=cast.acme.pk)[1] is None

    progress = [
        event
        for _id, event in get_streams().read(acme_key, acme_from)
        if event["event_type"] == "bulk_operation.progress"
    ]
    assert [(e["status"], e["done"], e["pending"]) for e in progress] == [
        ("queued", 0, 5), ("running", 2, 3), ("running", 4, 1), ("completed", 5, 0),
    ]  # fmt: skip
    assert {e["bulk_operation_id"] for e in progress} == {operation["id"]}
    assert {e["organization_id"] for e in progress} == {str(cast.acme.pk)}
    assert not [e for _id, e in get_streams().read(globex_key, globex_from) if "bulk_operation_id" in e]


@pytest.mark.django_db
def test_a_selection_and_a_filter_never_hold_the_same_run_in_two_operations(cast, alice_api):
    contracts = active_workflow(cast, PREPARE, name="contracts")
    invoices = active_workflow(cast, PREPARE, name="invoices")
    contract_runs = failed_runs(cast, contracts, 3)
    failed_runs(cast, invoices, 2)

    # Runs ticked on the runs list, all of one workflow: the operation is that workflow's.
    ticked = alice_api.post(BULK, {"action": "retry", "filter": {"ids": contract_runs[:2]}}, format="json")
    assert ticked.status_code == 202, ticked.json()
    assert ticked.json()["workflow"] == str(contracts.pk)
    # The same workflow by filter would retry those two runs again.
    by_filter = alice_api.post(BULK, {"action": "retry", "filter": {"workflow": str(contracts.pk)}}, format="json")
    assert (by_filter.status_code, error_code(by_filter)) == (409, "bulk.already_running")
    assert by_filter.json()["error"]["details"]["operation"] == ticked.json()["id"]
    # Every workflow's failed runs overlap it too; another workflow alone does not.
    everything = alice_api.post(BULK, {"action": "retry", "filter": {"status": "failed"}}, format="json")
    assert (everything.status_code, error_code(everything)) == (409, "bulk.already_running")
    assert (
        alice_api.post(BULK, {"action": "retry", "filter": {"workflow": str(invoices.pk)}}, format="json").status_code
        == 202
    )
    assert BulkOperation.objects.count() == 2
