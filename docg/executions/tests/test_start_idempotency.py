"""API starts: an Idempotency-Key makes a repeated start answer the first run, and no start answers
5xx once its run is committed (the broker or the database failing right after)."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from docg.executions import dispatch
from docg.executions.choices import ExecutionStatus
from docg.executions.models import OutboxMessage, StartRequest, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow
from tests.fixtures.cast import api_client_for


def _start(client, workflow, key: str | None = None, **body):
    body.setdefault("trigger_data", {"customer": "ana"})
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/v1/workflows/{workflow.pk}/executions", body, format="json", **headers)


@pytest.mark.django_db
def test_it_answers_a_repeated_start_with_the_first_run(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    first = _start(alice_api, workflow, key="order-1")
    again = _start(alice_api, workflow, key="order-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert WorkflowExecution.objects.count() == 1
    # Another key is another start.
    assert _start(alice_api, workflow, key="order-2").json()["id"] != first.json()["id"]
    assert WorkflowExecution.objects.count() == 2


@pytest.mark.django_db
def test_it_refuses_a_key_reused_with_another_request(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    assert _start(alice_api, workflow, key="k").status_code == 202
    response = _start(alice_api, workflow, key="k", trigger_data={"customer": "bob"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key.reused"
    assert WorkflowExecution.objects.count() == 1


@pytest.mark.django_db
def test_it_keeps_keys_per_organization(cast, alice_api, charlie_api):
    ours = active_workflow(cast, PREPARE)
    theirs = active_workflow(cast, PREPARE, organization=cast.globex)
    a = _start(alice_api, ours, key="same")
    b = _start(charlie_api, theirs, key="same")
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers


@pytest.mark.django_db
def test_it_forgets_a_key_after_a_day(cast, alice_api, settings):
    workflow = active_workflow(cast, PREPARE)
    first = _start(alice_api, workflow, key="daily").json()["id"]
    StartRequest.objects.update(created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS, minutes=1))
    second = _start(alice_api, workflow, key="daily")
    assert second.status_code == 202
    assert second.json()["id"] != first
    assert StartRequest.objects.count() == 1


@pytest.mark.django_db
def test_it_does_not_record_a_start_that_failed(cast, alice_api):
    workflow = active_workflow(cast, PREPARE)
    assert _start(alice_api, workflow, key="bad", trigger_data=["no"]).status_code == 400
    assert not StartRequest.objects.exists()
    assert _start(alice_api, workflow, key="bad").status_code == 202


@pytest.mark.django_db
def test_it_refuses_a_key_too_long(cast, alice_api):
    response = _start(alice_api, active_workflow(cast, PREPARE), key="k" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key.invalid"


@pytest.mark.django_db(transaction=True)
def test_a_retry_with_a_key_starts_one_new_run(cast):
    client = api_client_for(cast.alice)
    workflow = active_workflow(cast, PREPARE)
    with dispatch.inline():
        parent = _start(client, workflow).json()["id"]
    assert WorkflowExecution.objects.get(pk=parent).status == ExecutionStatus.COMPLETED
    url = f"/api/v1/executions/{parent}/retry"
    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] != parent
    assert WorkflowExecution.objects.filter(parent_execution_id=parent).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_start_whose_send_fails_after_commit_answers_202_and_the_outbox_sends_it(
    cast, alice_api, monkeypatch, settings
):
    workflow = active_workflow(cast, PREPARE)
    actor = dispatch._route(dispatch.START).actor

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(actor, "send_with_options", broker_down)
    response = _start(alice_api, workflow)
    assert response.status_code == 202
    row = OutboxMessage.objects.get()
    assert (row.queue, row.object_id) == (dispatch.START, response.json()["id"])

    # Still down: the drain keeps the row. Back: it sends it and deletes the row.
    settings.OUTBOX_RESEND_AFTER_SECONDS = 0
    assert dispatch.outbox_drain() == 0
    assert OutboxMessage.objects.count() == 1
    monkeypatch.undo()
    with dispatch.captured() as sent:
        assert dispatch.outbox_drain() == 1
    assert sent == [dispatch.Message(dispatch.START, response.json()["id"], 0)]
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_start_whose_reread_fails_after_commit_still_answers_202(cast, alice_api, monkeypatch, settings):
    from docg.executions import selectors

    settings.DB_RETRY_SECONDS = 0.2
    workflow = active_workflow(cast, PREPARE)

    def database_gone(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "executions_with_version", database_gone)
    with dispatch.captured():
        response = _start(alice_api, workflow)
    assert response.status_code == 202
    execution = WorkflowExecution.objects.get()
    assert response.json() == {
        "id": str(execution.pk),
        "workflow": str(workflow.pk),
        "status": ExecutionStatus.QUEUED,
        "correlation_id": str(execution.correlation_id),
    }
