"""Timestamped signatures on the generic webhook: valid, forged, stale and replayed deliveries.

The sender signs "{X-Docg-Timestamp}.{raw body}" with the workflow's secret. A delivery
more than five minutes from our clock is refused, and the same timestamp and signature
sent again answers with the first run, so a captured request cannot start a second one.
"""

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from docg.executions.models import WorkflowExecution
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db

BODY = json.dumps({"customer": "Ana", "amount": 120}).encode()


def _workflow(cast, **trigger_parameters):
    nodes = linear_nodes()
    nodes[0]["parameters"] = {"hmac_header": "X-Signature", **trigger_parameters}
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="timestamped hook", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


def _sign(secret: str, raw: bytes, timestamp: int | str | None = None) -> str:
    signed = raw if timestamp is None else f"{timestamp}.".encode() + raw
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _post(workflow, raw: bytes = BODY, *, signature: str | None = None, timestamp=None):
    headers = {}
    if signature is not None:
        headers["HTTP_X_SIGNATURE"] = signature
    if timestamp is not None:
        headers["HTTP_X_DOCG_TIMESTAMP"] = str(timestamp)
    return Client().post(
        f"/hooks/{workflow.pk}/{workflow.webhook_secret}", data=raw, content_type="application/json", **headers
    )


def _nothing_stored() -> bool:
    return not WorkflowExecution.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_fresh_timestamped_delivery_starts_a_run(cast):
    workflow = _workflow(cast)
    now = int(time.time())
    response = _post(workflow, signature=_sign(workflow.webhook_secret, BODY, now), timestamp=now)
    assert response.status_code == 202, response.json()
    assert response.json()["duplicate"] is False
    assert WorkflowExecution.objects.get().trigger_data == {"customer": "Ana", "amount": 120}


def test_a_body_only_signature_still_works_when_no_timestamp_is_required(cast):
    workflow = _workflow(cast)
    first = _post(workflow, signature=_sign(workflow.webhook_secret, BODY))
    again = _post(workflow, signature=_sign(workflow.webhook_secret, BODY))
    # Unchanged behaviour: without a timestamp or an idempotency key, each delivery is a run.
    assert (first.status_code, again.status_code) == (202, 202)
    assert WorkflowExecution.objects.count() == 2


def test_forged_timestamped_deliveries_are_refused_and_store_nothing(cast):
    workflow = _workflow(cast)
    secret = workflow.webhook_secret
    now = int(time.time())
    forged = [
        _post(workflow, signature=_sign("not-the-secret", BODY, now), timestamp=now),  # wrong key
        _post(workflow, signature=_sign(secret, BODY), timestamp=now),  # body-only signature, timestamp added
        _post(workflow, signature=_sign(secret, BODY, now - 1), timestamp=now),  # timestamp changed after signing
        _post(workflow, signature=_sign(secret, b'{"customer": "Mallory"}', now), timestamp=now),  # other body
        _post(workflow, timestamp=now),  # no signature
    ]
    assert [r.status_code for r in forged] == [401] * 5
    assert {r.json()["error"]["code"] for r in forged} == {"webhook.bad_signature"}
    malformed = _post(workflow, signature=_sign(secret, BODY, "soon"), timestamp="soon")
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "webhook.bad_timestamp")
    assert set(malformed.json()["error"]) == {"code", "message", "details"}
    assert _nothing_stored()


@pytest.mark.parametrize("offset", [-301, -3600, 301])
def test_a_stale_or_future_delivery_is_refused_even_when_validly_signed(cast, offset):
    workflow = _workflow(cast)
    stamp = int(time.time()) + offset
    response = _post(workflow, signature=_sign(workflow.webhook_secret, BODY, stamp), timestamp=stamp)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "webhook.stale_timestamp")
    assert "300 seconds" in response.json()["error"]["message"]
    assert _nothing_stored()


def test_a_delivery_just_inside_the_window_is_accepted(cast):
    workflow = _workflow(cast)
    stamp = int(time.time()) - 290
    response = _post(workflow, signature=_sign(workflow.webhook_secret, BODY, stamp), timestamp=stamp)
    assert response.status_code == 202


def test_a_replayed_timestamped_delivery_is_a_duplicate_with_no_second_run(cast):
    workflow = _workflow(cast)
    now = int(time.time())
    signature = _sign(workflow.webhook_secret, BODY, now)
    first = _post(workflow, signature=signature, timestamp=now)
    replays = [_post(workflow, signature=signature, timestamp=now) for _ in range(3)]
    assert first.status_code == 202
    assert {(r.status_code, r.json()["duplicate"], r.json()["execution_id"]) for r in replays} == {
        (200, True, first.json()["execution_id"])
    }
    assert WorkflowExecution.objects.count() == 1
    # The sender's next delivery of the same body has a new timestamp, so a new signature: a new run.
    later = now + 1
    fresh = _post(workflow, signature=_sign(workflow.webhook_secret, BODY, later), timestamp=later)
    assert (fresh.status_code, fresh.json()["duplicate"]) == (202, False)
    assert WorkflowExecution.objects.count() == 2


def test_require_timestamp_refuses_a_body_only_signature(cast):
    workflow = _workflow(cast, require_timestamp=True)
    response = _post(workflow, signature=_sign(workflow.webhook_secret, BODY))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "webhook.timestamp_required")
    assert _nothing_stored()
    now = int(time.time())
    assert _post(workflow, signature=_sign(workflow.webhook_secret, BODY, now), timestamp=now).status_code == 202


def test_require_timestamp_without_a_signature_header_cannot_be_saved(cast):
    from docg.common.errors import DocgError

    nodes = linear_nodes()
    nodes[0]["parameters"] = {"require_timestamp": True}
    with pytest.raises(DocgError) as caught:
        workflow = workflow_create(organization=cast.acme, by=cast.alice, name="unsigned", nodes=nodes)
        workflow_activate(workflow=workflow, by=cast.alice)
    assert "hmac_header" in str(caught.value.details) + caught.value.message


def test_another_organizations_workflow_with_a_wrong_secret_is_404(cast):
    workflow = _workflow(cast)
    now = int(time.time())
    response = Client().post(
        f"/hooks/{workflow.pk}/not-the-secret",
        data=BODY,
        content_type="application/json",
        HTTP_X_SIGNATURE=_sign(workflow.webhook_secret, BODY, now),
        HTTP_X_DOCG_TIMESTAMP=str(now),
    )
    assert response.status_code == 404
    assert _nothing_stored()


def test_a_replay_with_a_new_idempotency_key_header_is_still_a_duplicate(cast):
    # The Idempotency-Key header is not signed: a replayer can change it, so it must not replace the signature's key.
    workflow = _workflow(cast)
    now = int(time.time())
    signature = _sign(workflow.webhook_secret, BODY, now)
    first = Client().post(
        f"/hooks/{workflow.pk}/{workflow.webhook_secret}", data=BODY, content_type="application/json",
        HTTP_X_SIGNATURE=signature, HTTP_X_DOCG_TIMESTAMP=str(now), HTTP_IDEMPOTENCY_KEY="order-1",
    )  # fmt: skip
    assert first.status_code == 202
    for n in range(3):
        replay = Client().post(
            f"/hooks/{workflow.pk}/{workflow.webhook_secret}", data=BODY, content_type="application/json",
            HTTP_X_SIGNATURE=signature, HTTP_X_DOCG_TIMESTAMP=str(now), HTTP_IDEMPOTENCY_KEY=f"forged-{n}",
        )  # fmt: skip
        assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    assert WorkflowExecution.objects.count() == 1
