import hashlib
import hmac
import json

import pytest
from django.test import Client

from docg.executions.models import WorkflowExecution
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create, workflow_deactivate
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db


def _workflow(cast, **trigger_parameters):
    nodes = linear_nodes()
    nodes[0]["parameters"] = trigger_parameters
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="hooked", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


def _post(workflow, body, *, secret=None, content_type="application/json", **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return Client().post(
        f"/hooks/{workflow.pk}/{secret or workflow.webhook_secret}", data=data, content_type=content_type, **headers
    )


def test_delivery_starts_a_run_with_the_body_as_trigger_data(cast):
    workflow = _workflow(cast)
    response = _post(workflow, {"customer": "Ana", "amount": 10})
    assert response.status_code == 202
    execution = WorkflowExecution.objects.get(pk=response.json()["execution_id"])
    assert execution.trigger_data == {"customer": "Ana", "amount": 10}
    assert execution.organization == cast.acme


def test_wrong_secret_or_unknown_workflow_is_404_and_starts_nothing(cast):
    workflow = _workflow(cast)
    assert _post(workflow, {}, secret="guess").status_code == 404
    other = workflow_create(organization=cast.globex, by=cast.charlie, name="theirs", nodes=linear_nodes())
    assert _post(other, {}, secret=workflow.webhook_secret).status_code == 404
    assert not WorkflowExecution.objects.exists()


def test_each_workflow_has_its_own_secret_and_the_api_shows_the_url(cast, alice_api):
    first, second = _workflow(cast), _workflow(cast)
    assert first.webhook_secret != second.webhook_secret
    body = alice_api.get(f"/api/v1/workflows/{first.pk}").json()
    assert body["webhook_url"].endswith(f"/hooks/{first.pk}/{first.webhook_secret}")


def test_hmac_is_required_when_the_trigger_names_a_header(cast):
    workflow = _workflow(cast, hmac_header="X-Signature")
    raw = json.dumps({"customer": "Ana"}).encode()
    good = hmac.new(workflow.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    assert _post(workflow, raw, HTTP_X_SIGNATURE="sha256=" + "0" * 64).status_code == 401
    assert _post(workflow, raw).status_code == 401
    assert not WorkflowExecution.objects.exists()
    assert _post(workflow, raw, HTTP_X_SIGNATURE=f"sha256={good}").status_code == 202
    assert _post(workflow, raw, HTTP_X_SIGNATURE=good).status_code == 202


def test_repeated_delivery_with_the_same_key_starts_one_run(cast):
    workflow = _workflow(cast, idempotency_field="event_id")
    first = _post(workflow, {"event_id": "evt-1", "customer": "Ana"})
    again = _post(workflow, {"event_id": "evt-1", "customer": "Ana"})
    by_header = _post(workflow, {"customer": "Bia"}, HTTP_IDEMPOTENCY_KEY="k-9")
    by_header_again = _post(workflow, {"customer": "Bia"}, HTTP_IDEMPOTENCY_KEY="k-9")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert again.json()["duplicate"] is True
    assert by_header_again.json()["execution_id"] == by_header.json()["execution_id"]
    assert WorkflowExecution.objects.count() == 2
    assert WebhookDelivery.objects.count() == 2


def test_form_bodies_are_accepted(cast):
    workflow = _workflow(cast)
    response = _post(workflow, "customer=Ana&amount=10", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202
    assert WorkflowExecution.objects.get().trigger_data == {"customer": "Ana", "amount": "10"}


@pytest.mark.parametrize("raw", [b"[1, 2]", b"{not json", b'{"a": NaN}', b'"text"'])
def test_bodies_that_are_not_an_object_are_400(cast, raw):
    response = _post(_workflow(cast), raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook.bad_body"


def test_inactive_workflow_is_409_and_get_is_405(cast):
    workflow = _workflow(cast)
    workflow_deactivate(workflow=workflow, by=cast.alice)
    response = _post(workflow, {"customer": "Ana"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "workflow.inactive"
    assert Client().get(f"/hooks/{workflow.pk}/{workflow.webhook_secret}").status_code == 405


def test_huge_body_is_413(cast):
    workflow = _workflow(cast)
    response = _post(workflow, {"blob": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert not WorkflowExecution.objects.exists()
