"""HubSpot CRM errors are classified: 401 → reconnect, 403 → fix permissions, 429 / 5xx → try again later."""

import time

import pytest

from docg.common.errors import DocgError
from docg.connectors.models import DataSourceConnection
from docg.executions.errors import recommended_action
from docg.providers.hubspot.actors import RetryableHubSpotError, deal_event_process
from docg.providers.hubspot.client import HubSpotClient
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create

pytestmark = pytest.mark.django_db

DEAL_PATH = "/hubspot/crm/v3/objects/deals/512"


@pytest.fixture
def connection(cast, provider_api):
    return DataSourceConnection.objects.create(
        organization=cast.acme,
        provider="hubspot",
        name="HubSpot acme",
        config={"portal_id": "62515"},
        credentials={"access_token": "hub-token", "expires_at": time.time() + 1800},
    )


def _fetch(connection):
    return HubSpotClient(connection, correlation_id="corr-9").get_deal("512", properties=["dealname"])


def test_403_is_a_permanent_missing_permission(connection, provider_api):
    provider_api.on(
        "GET",
        DEAL_PATH,
        status=403,
        body={
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call.",
            "category": "MISSING_SCOPES",
        },
    )
    with pytest.raises(DocgError) as caught:
        _fetch(connection)
    assert caught.value.code == "hubspot.insufficient_permissions"
    assert caught.value.transient is False
    assert "scopes" in caught.value.human
    assert recommended_action(caught.value.code, execution_id="e")["action"] == "fix_permissions"
    assert DataSourceConnection.objects.get(pk=connection.pk).status == "active"


def test_429_is_a_transient_rate_limit_with_retry_after(connection, provider_api):
    provider_api.on(
        "GET",
        DEAL_PATH,
        status=429,
        body={"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT"},
        headers={"Retry-After": "7"},
    )
    with pytest.raises(DocgError) as caught:
        _fetch(connection)
    assert caught.value.code == "rate_limit" and caught.value.transient is True
    assert caught.value.details["retry_after"] == "7"
    assert recommended_action("rate_limit", execution_id="e")["action"] == "retry_later"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(connection, provider_api, status):
    provider_api.on("GET", DEAL_PATH, status=status, body={"status": "error", "message": "internal error"})
    with pytest.raises(DocgError) as caught:
        _fetch(connection)
    assert caught.value.code == "hubspot.unavailable" and caught.value.transient is True


def test_401_after_a_refresh_expires_the_connection(connection, provider_api, settings):
    connection.credentials = {**connection.credentials, "refresh_token": "hub-r"}
    connection.save()
    provider_api.on(
        "POST",
        "/hubspot/oauth/v1/token",
        body={"access_token": "hub-token-2", "refresh_token": "hub-r2", "expires_in": 1800, "token_type": "bearer"},
    )
    provider_api.on("GET", DEAL_PATH, status=401, body={"status": "error", "category": "INVALID_AUTHENTICATION"})
    with pytest.raises(DocgError) as caught:
        _fetch(connection)
    assert caught.value.code == "oauth_expired"
    tokens = [r.headers["authorization"] for r in provider_api.calls("GET", DEAL_PATH)]
    assert tokens == ["Bearer hub-token", "Bearer hub-token-2"]
    assert DataSourceConnection.objects.get(pk=connection.pk).status == "expired"
    assert recommended_action("oauth_expired", execution_id="e")["action"] == "reconnect_provider"


def _delivery(cast, connection):
    trigger = {"key": "start", "kind": "trigger", "app": "hubspot", "operation": "deal_event", "connection": connection}
    step = {"key": "s", "kind": "action", "app": "core", "operation": "set_variables", "parameters": {"variables": {}}}
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="w", nodes=[trigger, step])
    workflow_activate(workflow=workflow, by=cast.alice)
    return WebhookDelivery.objects.create(organization=cast.acme, workflow=workflow, idempotency_key="hubspot:1:1")


EVENT = {"eventId": 1, "portalId": 62515, "objectId": 512, "subscriptionType": "deal.creation"}


def test_the_worker_retries_transient_errors_and_starts_a_blocked_run_on_permanent_ones(cast, connection, provider_api):
    delivery = _delivery(cast, connection)
    provider_api.on("GET", DEAL_PATH, status=503, body={"status": "error"})
    with pytest.raises(RetryableHubSpotError):
        deal_event_process(delivery_id=str(delivery.pk), connection_id=str(connection.pk), event=EVENT)
    assert WebhookDelivery.objects.get(pk=delivery.pk).execution is None
    provider_api.on("GET", DEAL_PATH, status=404, body={"status": "error", "category": "OBJECT_NOT_FOUND"})
    execution_id = deal_event_process(delivery_id=str(delivery.pk), connection_id=str(connection.pk), event=EVENT)
    execution = WebhookDelivery.objects.get(pk=delivery.pk).execution
    assert str(execution.pk) == execution_id
    assert execution.trigger_data["enrichment_error"]["code"] == "hubspot.not_found"
