"""The generic webhook under attack: forged, replayed and late-replayed deliveries start no run.

Without a timestamp (X-Docg-Timestamp is optional: see test_timestamp.py), a
captured delivery replayed later is stopped by its idempotency key, which is
kept for good (workflows.WebhookDelivery): a late replay is answered like any
other repeat, with the first run and nothing started.
"""

import hashlib
import hmac
import json

import pytest
from django.test import Client

from docg.executions.models import WorkflowExecution
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db


def _workflow(cast, **trigger_parameters):
    nodes = linear_nodes()
    nodes[0]["parameters"] = trigger_parameters
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="signed hook", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


def _sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _post(workflow, raw: bytes, *, signature: str | None = None, key: str | None = None):
    headers = {}
    if signature is not None:
        headers["HTTP_X_SIGNATURE"] = signature
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(
        f"/hooks/{workflow.pk}/{workflow.webhook_secret}", data=raw, content_type="application/json", **headers
    )


def test_only_the_validly_signed_delivery_starts_a_run(cast):
    workflow = _workflow(cast, hmac_header="X-Signature", idempotency_field="event_id")
    raw = json.dumps({"event_id": "evt-77", "customer": "Ana"}).encode()
    other = json.dumps({"event_id": "evt-78", "customer": "Mallory"}).encode()
    forged = [
        _post(workflow, raw, signature=_sign("not-the-secret", raw)),  # wrong key
        _post(workflow, raw, signature=_sign(workflow.webhook_secret, other)),  # a real signature, other body
        _post(workflow, raw),  # none
        _post(workflow, raw, signature="sha256=" + "f" * 64),
    ]
    assert [r.status_code for r in forged] == [401, 401, 401, 401]
    assert {r.json()["error"]["code"] for r in forged} == {"webhook.bad_signature"}
    assert not WorkflowExecution.objects.exists() and not WebhookDelivery.objects.exists()
    valid = _post(workflow, raw, signature=_sign(workflow.webhook_secret, raw))
    assert valid.status_code == 202
    assert WorkflowExecution.objects.get().trigger_data == {"event_id": "evt-77", "customer": "Ana"}


def test_a_replayed_signed_delivery_starts_nothing_new(cast):
    workflow = _workflow(cast, hmac_header="X-Signature", idempotency_field="event_id")
    raw = json.dumps({"event_id": "evt-1", "customer": "Ana"}).encode()
    signature = _sign(workflow.webhook_secret, raw)
    first = _post(workflow, raw, signature=signature)
    replays = [_post(workflow, raw, signature=signature) for _ in range(3)]
    assert first.status_code == 202
    assert {(r.status_code, r.json()["duplicate"], r.json()["execution_id"]) for r in replays} == {
        (200, True, first.json()["execution_id"])
    }
    assert WorkflowExecution.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_a_late_replay_after_the_run_ended_is_still_a_repeat(cast):
    workflow = _workflow(cast, hmac_header="X-Signature")
    raw = json.dumps({"customer": "Ana"}).encode()
    signature = _sign(workflow.webhook_secret, raw)
    first = _post(workflow, raw, signature=signature, key="delivery-2026-01-01-0001")
    execution = WorkflowExecution.objects.get(pk=first.json()["execution_id"])
    # Much later (the run is long over) someone replays the captured request, key and all.
    WorkflowExecution.objects.filter(pk=execution.pk).update(created_at=execution.created_at.replace(year=2020))
    late = _post(workflow, raw, signature=signature, key="delivery-2026-01-01-0001")
    assert late.status_code == 200 and late.json()["duplicate"] is True
    assert late.json()["execution_id"] == str(execution.pk)
    assert WorkflowExecution.objects.count() == 1


def test_the_same_key_on_another_workflow_is_not_a_replay(cast):
    first, second = _workflow(cast), _workflow(cast)
    raw = json.dumps({"customer": "Ana"}).encode()
    assert _post(first, raw, key="k-1").status_code == 202
    assert _post(second, raw, key="k-1").status_code == 202
    assert WorkflowExecution.objects.count() == 2
