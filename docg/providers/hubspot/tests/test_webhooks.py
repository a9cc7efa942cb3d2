"""HubSpot app webhooks: only a validly signed, fresh, first delivery of an event starts a run (with the deal)."""

import json
import time

import pytest

from docg.connectors.models import DataSourceConnection
from docg.executions.models import WorkflowExecution
from docg.providers.hubspot import webhooks
from docg.providers.hubspot.actors import deal_event_process
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create

pytestmark = pytest.mark.django_db

SECRET = "hub-app-secret"
PORTAL = 62515
DEAL = 512


@pytest.fixture
def hubspot(cast, settings, provider_api):
    settings.HUBSPOT_WEBHOOK_SECRET = SECRET
    settings.HUBSPOT_WEBHOOK_BASE_URL = "https://docg.example.com"
    connection = DataSourceConnection.objects.create(
        organization=cast.acme,
        provider="hubspot",
        name="HubSpot acme",
        config={"portal_id": str(PORTAL), "account_id": "62515:77"},
        credentials={"access_token": "hub-token", "refresh_token": "hub-r", "expires_at": time.time() + 1800},
    )
    return connection


@pytest.fixture
def queued(monkeypatch, django_capture_on_commit_callbacks):
    """The worker messages the webhook queued after its commit (run by the test, in order)."""
    calls: list[tuple] = []
    monkeypatch.setattr(webhooks, "enqueue", lambda *args: calls.append(args))
    original = webhooks.receive

    def receive_and_commit(events):
        with django_capture_on_commit_callbacks(execute=True):
            return original(events)

    monkeypatch.setattr(webhooks, "receive", receive_and_commit)
    return calls


def _workflow(cast, connection, **parameters):
    trigger = {
        "key": "start",
        "kind": "trigger",
        "app": "hubspot",
        "operation": "deal_event",
        "connection": connection,
        "parameters": parameters,
    }
    step = {
        "key": "prepare",
        "kind": "action",
        "app": "core",
        "operation": "set_variables",
        "parameters": {"variables": {"customer": "{{ trigger.company.properties.name }}"}},
    }
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="deal flow", nodes=[trigger, step])
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


def _crm(fake):
    fake.on(
        "GET",
        f"/hubspot/crm/v3/objects/deals/{DEAL}",
        body={
            "id": str(DEAL),
            "properties": {
                "dealname": "Acme renewal",
                "amount": "1200",
                "dealstage": "contractsent",
                "pipeline": "default",
            },
            "createdAt": "2025-01-02T10:00:00Z",
            "updatedAt": "2025-01-03T10:00:00Z",
            "archived": False,
        },
    )
    for to_type, ids in (("contacts", [901, 902]), ("companies", [301]), ("line_items", [701])):
        fake.on(
            "GET",
            f"/hubspot/crm/v4/objects/deals/{DEAL}/associations/{to_type}",
            body={
                "results": [
                    {"toObjectId": i, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}
                    for i in ids
                ]
            },
        )

    def batch(names):
        def answer(request):
            results = [{"id": i["id"], "properties": {"name": names[i["id"]]}} for i in request.json["inputs"]]
            return 200, {"status": "COMPLETE", "results": results}, {}

        return answer

    fake.handle("POST", "/hubspot/crm/v3/objects/contacts/batch/read", batch({"901": "Ana", "902": "Bruno"}))
    fake.handle("POST", "/hubspot/crm/v3/objects/companies/batch/read", batch({"301": "Acme Ltda"}))
    fake.handle("POST", "/hubspot/crm/v3/objects/line_items/batch/read", batch({"701": "Support plan"}))


def _events(event_id=4001, subscription="deal.propertyChange", **extra):
    return [
        {
            "eventId": event_id,
            "subscriptionId": 11,
            "portalId": PORTAL,
            "appId": 999,
            "occurredAt": 1736000000000,
            "subscriptionType": subscription,
            "attemptNumber": 0,
            "objectId": DEAL,
            "propertyName": "dealstage",
            "propertyValue": "contractsent",
            "changeSource": "CRM_UI",
            **extra,
        }
    ]


def _post(client, events, *, secret=SECRET, timestamp=None, path="/hooks/hubspot/"):
    body = json.dumps(events).encode()
    timestamp = str(timestamp if timestamp is not None else int(time.time() * 1000))
    signature = webhooks.signature_v3(
        secret=secret, method="POST", uri="https://docg.example.com" + path, body=body, timestamp=timestamp
    )
    return client.post(
        path,
        body,
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
    )


def _run_queued(queued):
    return [deal_event_process(delivery_id=d, connection_id=c, event=e) for d, c, e in queued]


def test_a_valid_delivery_starts_one_run_with_the_enriched_deal(client, cast, hubspot, provider_api, queued):
    _crm(provider_api)
    workflow = _workflow(cast, hubspot, subscription_types=["deal.propertyChange"], stages=["contractsent"])
    response = _post(client, _events())
    assert response.status_code == 200, response.content
    assert response.json() == {"queued": 1, "duplicates": 0, "ignored": 0}

    [execution_id] = _run_queued(queued)
    execution = WorkflowExecution.objects.get(pk=execution_id)
    assert execution.workflow == workflow
    data = execution.trigger_data
    assert data["event"]["event_id"] == 4001 and data["event"]["subscription_type"] == "deal.propertyChange"
    assert data["deal"]["properties"]["dealname"] == "Acme renewal"
    assert [c["properties"]["name"] for c in data["contacts"]] == ["Ana", "Bruno"]
    assert data["company"]["properties"]["name"] == "Acme Ltda"
    assert [li["id"] for li in data["line_items"]] == ["701"]

    deal_call = provider_api.calls("GET", f"/hubspot/crm/v3/objects/deals/{DEAL}")[0]
    assert "dealstage" in deal_call.query["properties"][0].split(",")
    assert deal_call.headers["authorization"] == "Bearer hub-token"
    correlation = deal_call.headers["x-correlation-id"]
    assert correlation
    contacts = provider_api.calls("POST", "/hubspot/crm/v3/objects/contacts/batch/read")[0]
    assert contacts.json["inputs"] == [{"id": "901"}, {"id": "902"}]
    assert "email" in contacts.json["properties"]
    assert all(r.headers["x-correlation-id"] == correlation for r in provider_api.requests)
    assert provider_api.calls("GET", f"/hubspot/crm/v4/objects/deals/{DEAL}/associations/line_items")[0].query == {
        "limit": ["500"]
    }


def test_a_forged_signature_is_refused_before_anything_is_stored(client, cast, hubspot, provider_api, queued):
    _workflow(cast, hubspot)
    response = _post(client, _events(), secret="not-the-app-secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook.bad_signature"
    assert queued == [] and not WebhookDelivery.objects.exists()
    body = json.dumps(_events()).encode()
    unsigned = client.post("/hooks/hubspot/", body, content_type="application/json")
    assert unsigned.status_code == 401


def test_a_body_changed_after_signing_is_refused(client, cast, hubspot, queued):
    _workflow(cast, hubspot)
    timestamp = str(int(time.time() * 1000))
    signature = webhooks.signature_v3(
        secret=SECRET,
        method="POST",
        uri="https://docg.example.com/hooks/hubspot/",
        body=json.dumps(_events()).encode(),
        timestamp=timestamp,
    )
    response = client.post(
        "/hooks/hubspot/",
        json.dumps(_events(event_id=9999)),
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
    )
    assert response.status_code == 401 and queued == []


def test_a_stale_timestamp_is_refused(client, cast, hubspot, queued):
    _workflow(cast, hubspot)
    six_minutes_ago = int((time.time() - 360) * 1000)
    response = _post(client, _events(), timestamp=six_minutes_ago)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook.stale"
    assert queued == [] and not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("timestamp", ["\u00b2", "9" * 400, "9" * 5000, "-1", "1e3"])
def test_a_malformed_timestamp_is_401_not_a_crash(client, cast, hubspot, queued, timestamp):
    _workflow(cast, hubspot)
    response = _post(client, _events(), timestamp=timestamp)
    assert response.status_code == 401
    assert queued == [] and not WebhookDelivery.objects.exists()


def test_a_replayed_event_has_no_effect(client, cast, hubspot, provider_api, queued):
    _crm(provider_api)
    _workflow(cast, hubspot)
    assert _post(client, _events()).json()["queued"] == 1
    replay = _post(client, _events())
    assert replay.status_code == 200
    assert replay.json() == {"queued": 0, "duplicates": 1, "ignored": 0}
    assert len(queued) == 1
    _run_queued(queued)
    # The worker message delivered twice starts nothing more either.
    assert _run_queued(queued) == [None]
    assert WorkflowExecution.objects.count() == 1


def test_events_nobody_listens_to_are_ignored(client, cast, hubspot, queued):
    _workflow(cast, hubspot, subscription_types=["deal.creation"])
    other_portal = _events(event_id=1, portalId=1234, subscription="deal.creation")
    response = _post(
        client, [*_events(event_id=2), *other_portal, *_events(event_id=3, subscription="contact.creation")]
    )
    assert response.json() == {"queued": 0, "duplicates": 0, "ignored": 3}
    assert queued == []


def test_a_deal_outside_the_stage_filter_starts_no_run(client, cast, hubspot, provider_api, queued):
    _crm(provider_api)
    _workflow(cast, hubspot, stages=["closedwon"])
    _post(client, _events())
    assert _run_queued(queued) == [None]
    assert not WorkflowExecution.objects.exists()


def test_a_bad_body_is_a_400(client, cast, hubspot):
    response = _post(client, {"not": "events"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook.bad_body"


def test_the_signature_uri_decodes_hubspots_table():
    assert (
        webhooks.signing_uri("https://x.test/hooks/hubspot/?a=b%3Ac%2Cd%20e")
        == "https://x.test/hooks/hubspot/?a=b:c,d%20e"
    )
