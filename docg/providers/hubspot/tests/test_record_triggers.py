"""HubSpot contact and company triggers: their events start runs with the record and its associations."""

import pytest

from docg.executions.models import WorkflowExecution
from docg.providers.hubspot.tests.test_webhooks import _events, _post, _run_queued
from docg.workflows.services import workflow_activate, workflow_create

pytestmark = pytest.mark.django_db
CONTACT, COMPANY = 901, 301


def _workflow(cast, connection, operation, **parameters):
    trigger = {"key": "start", "kind": "trigger", "app": "hubspot", "operation": operation,
               "connection": connection, "parameters": parameters}  # fmt: skip
    step = {"key": "prepare", "kind": "action", "app": "core", "operation": "set_variables",
            "parameters": {"variables": {}}}  # fmt: skip
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name=operation, nodes=[trigger, step])
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow


def _associations(fake, from_type, object_id, ids_by_type):
    for to_type, ids in ids_by_type.items():
        fake.on(
            "GET",
            f"/hubspot/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}",
            body={"results": [{"toObjectId": i, "associationTypes": []} for i in ids]},
        )


def _batch(fake, object_type, names):
    def answer(request):
        results = [{"id": i["id"], "properties": {"name": names[i["id"]]}} for i in request.json["inputs"]]
        return 200, {"status": "COMPLETE", "results": results}, {}

    fake.handle("POST", f"/hubspot/crm/v3/objects/{object_type}/batch/read", answer)


def test_a_contact_event_starts_a_run_with_the_contact_its_company_and_deals(
    client, cast, hubspot, provider_api, queued
):
    contact_flow = _workflow(cast, hubspot, "contact_event", property_names=["lifecyclestage"])
    _workflow(cast, hubspot, "company_event")  # listens to companies only
    provider_api.on(
        "GET",
        f"/hubspot/crm/v3/objects/contacts/{CONTACT}",
        body={"id": str(CONTACT), "properties": {"email": "ana@client.example", "firstname": "Ana"}},
    )
    _associations(provider_api, "contacts", CONTACT, {"companies": [COMPANY], "deals": [512]})
    _batch(provider_api, "companies", {"301": "Acme Ltda"})
    _batch(provider_api, "deals", {"512": "Acme renewal"})

    events = _events(
        event_id=5001, subscription="contact.propertyChange", objectId=CONTACT, propertyName="lifecyclestage"
    )
    response = _post(client, events)
    assert response.json() == {"queued": 1, "duplicates": 0, "ignored": 0}
    [execution_id] = _run_queued(queued)
    execution = WorkflowExecution.objects.get(pk=execution_id)
    assert execution.workflow == contact_flow
    data = execution.trigger_data
    assert data["event"]["subscription_type"] == "contact.propertyChange"
    assert data["contact"]["properties"]["email"] == "ana@client.example"
    assert data["company"]["properties"]["name"] == "Acme Ltda"
    assert [d["id"] for d in data["deals"]] == ["512"]
    [get] = provider_api.calls("GET", f"/hubspot/crm/v3/objects/contacts/{CONTACT}")
    assert "email" in get.query["properties"][0].split(",")

    # Another property changing is not this trigger's event.
    other = _events(event_id=5002, subscription="contact.propertyChange", objectId=CONTACT, propertyName="phone")
    assert _post(client, other).json() == {"queued": 0, "duplicates": 0, "ignored": 1}


def test_a_company_creation_starts_a_run_with_the_company_and_its_contacts(client, cast, hubspot, provider_api, queued):
    _workflow(cast, hubspot, "company_event", subscription_types=["company.creation"])
    provider_api.on(
        "GET", f"/hubspot/crm/v3/objects/companies/{COMPANY}", body={"id": str(COMPANY), "properties": {"name": "Acme"}}
    )
    _associations(provider_api, "companies", COMPANY, {"contacts": [CONTACT], "deals": []})
    _batch(provider_api, "contacts", {"901": "Ana"})

    response = _post(client, _events(event_id=6001, subscription="company.creation", objectId=COMPANY))
    assert response.json()["queued"] == 1
    [execution_id] = _run_queued(queued)
    data = WorkflowExecution.objects.get(pk=execution_id).trigger_data
    assert data["company"]["properties"]["name"] == "Acme"
    assert [c["id"] for c in data["contacts"]] == ["901"] and data["deals"] == []
    assert provider_api.calls("POST", "/hubspot/crm/v3/objects/deals/batch/read") == []
    # A change event is not a creation.
    changed = _events(event_id=6002, subscription="company.propertyChange", objectId=COMPANY)
    assert _post(client, changed).json()["ignored"] == 1
