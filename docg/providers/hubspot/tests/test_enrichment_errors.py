"""A deal event whose deal HubSpot refuses for good still starts one run, blocked in needs_review with the fix."""

import pytest

from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.providers.hubspot.actors import RetryableHubSpotError
from docg.providers.hubspot.preflight import deal_event_preflight
from docg.providers.hubspot.tests import test_webhooks as hooks
from docg.providers.hubspot.tests.test_webhooks import DEAL, _crm, _events, _post, _run_queued, _workflow
from docg.workflows.models import WebhookDelivery
from tests.fixtures.engine import wait_for_status

DEAL_PATH = f"/hubspot/crm/v3/objects/deals/{DEAL}"
TOKEN_PATH = "/hubspot/oauth/v1/token"

pytestmark = [pytest.mark.django_db(transaction=True)]

# The webhook tests' fixtures: a HubSpot connection for the portal, and the worker messages the webhook queued.
hubspot = hooks.hubspot
queued = hooks.queued


def _review(execution_id):
    execution = wait_for_status(execution_id, ExecutionStatus.NEEDS_REVIEW, ExecutionStatus.COMPLETED)
    assert execution.status == ExecutionStatus.NEEDS_REVIEW
    return execution


def test_an_expired_connection_starts_one_run_that_asks_to_reconnect(
    client, cast, hubspot, provider_api, queued, worker
):
    provider_api.on("GET", DEAL_PATH, status=401, body={"status": "error", "category": "INVALID_AUTHENTICATION"})
    provider_api.on(
        "POST",
        TOKEN_PATH,
        status=400,
        body={"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token", "error": "invalid_grant"},
    )
    workflow = _workflow(cast, hubspot, stages=["contractsent"])
    assert _post(client, _events()).json()["queued"] == 1

    [execution_id] = _run_queued(queued)
    execution = _review(execution_id)
    assert execution.workflow == workflow
    assert execution.last_error_code == "oauth_expired"
    assert "reconnect" in execution.last_error_human.lower()
    assert "next change" in execution.last_error_human  # says what resuming will not do
    assert [(a["action"], a["node_key"]) for a in execution.recommended_actions] == [("reconnect_provider", "start")]
    [issue] = execution.preflight_summary["blocking"]
    assert (issue["code"], issue["domain"]) == ("oauth_expired", "permissions")
    data = execution.trigger_data
    assert data["raw_event"]["eventId"] == 4001 and data["event"]["object_id"] == DEAL
    assert data["enrichment_error"]["code"] == "oauth_expired"
    assert data["enrichment_error"]["message_human"]
    # The run's correlation id is the one the deal fetch sent to HubSpot.
    deal_calls = provider_api.calls("GET", DEAL_PATH)
    assert {c.headers["x-correlation-id"] for c in deal_calls} == {str(execution.correlation_id)}
    assert not execution.steps.exists()

    # HubSpot retrying the delivery, or the worker message delivered twice, adds no run.
    _post(client, _events())
    assert _run_queued(queued) == [None]
    assert WorkflowExecution.objects.count() == 1
    assert str(WebhookDelivery.objects.get().execution_id) == execution_id


def test_a_missing_scope_starts_a_run_that_asks_to_fix_permissions(client, cast, hubspot, provider_api, queued, worker):
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
    _workflow(cast, hubspot)
    _post(client, _events())
    [execution_id] = _run_queued(queued)
    execution = _review(execution_id)
    assert execution.last_error_code == "hubspot.insufficient_permissions"
    assert "scopes" in execution.last_error_human
    assert [a["action"] for a in execution.recommended_actions] == ["fix_permissions"]


def test_a_deleted_deal_starts_a_run_with_a_clear_message_in_portuguese(
    client, cast, hubspot, provider_api, queued, worker
):
    cast.acme.language = "pt-br"
    cast.acme.save()
    provider_api.on("GET", DEAL_PATH, status=404, body={"status": "error", "category": "OBJECT_NOT_FOUND"})
    _workflow(cast, hubspot)
    _post(client, _events())
    [execution_id] = _run_queued(queued)
    execution = _review(execution_id)
    assert execution.last_error_code == "hubspot.not_found"
    assert f"negócio {DEAL}" in execution.last_error_human
    assert "O HubSpot não tem este registro" in execution.last_error_human
    assert execution.preflight_summary["blocking"][0]["domain"] == "data"


def test_a_resumed_run_stays_blocked_until_the_deal_data_is_given(client, cast, hubspot, provider_api, queued, worker):
    from docg.executions.control import execution_resume

    provider_api.on("GET", DEAL_PATH, status=404, body={"status": "error", "category": "OBJECT_NOT_FOUND"})
    _workflow(cast, hubspot)
    _post(client, _events())
    [execution_id] = _run_queued(queued)
    execution = _review(execution_id)
    resumed = execution_resume(execution=execution, by=cast.alice, changes={"note": "tried again"})
    assert resumed.status == ExecutionStatus.QUEUED
    again = _review(execution_id)
    assert again.last_error_code == "hubspot.not_found"
    assert again.trigger_data["note"] == "tried again"


def test_a_transient_error_is_retried_and_starts_no_run_until_it_succeeds(
    client, cast, hubspot, provider_api, queued, worker
):
    provider_api.on("GET", DEAL_PATH, status=503, body={"status": "error", "message": "internal error"})
    _workflow(cast, hubspot)
    _post(client, _events())
    with pytest.raises(RetryableHubSpotError):
        _run_queued(queued)
    assert not WorkflowExecution.objects.exists()

    _crm(provider_api)  # HubSpot is back
    [execution_id] = _run_queued(queued)
    execution = wait_for_status(execution_id, ExecutionStatus.COMPLETED, ExecutionStatus.NEEDS_REVIEW)
    assert execution.status == ExecutionStatus.COMPLETED
    assert "enrichment_error" not in execution.trigger_data


def test_later_events_of_an_expired_connection_also_ask_to_reconnect_without_calling_hubspot(
    client, cast, hubspot, provider_api, queued, worker
):
    provider_api.on("GET", DEAL_PATH, status=401, body={"status": "error", "category": "INVALID_AUTHENTICATION"})
    provider_api.on("POST", TOKEN_PATH, status=400, body={"status": "BAD_REFRESH_TOKEN", "error": "invalid_grant"})
    _workflow(cast, hubspot, stages=["contractsent"])
    _post(client, _events(4001))
    [first] = _run_queued(queued)
    _review(first)
    hubspot.refresh_from_db()
    assert hubspot.status == "expired"
    calls_before = len(provider_api.calls("GET", DEAL_PATH)) + len(provider_api.calls("POST", TOKEN_PATH))

    # The deal changes again in HubSpot: a second run, blocked with the same fix — not silence.
    assert _post(client, _events(4002)).json()["queued"] == 1
    first_again, second = _run_queued(queued)  # the first message redelivered does nothing
    assert first_again is None
    execution = _review(second)
    assert execution.last_error_code == "oauth_expired"
    assert [a["action"] for a in execution.recommended_actions] == ["reconnect_provider"]
    calls_after = len(provider_api.calls("GET", DEAL_PATH)) + len(provider_api.calls("POST", TOKEN_PATH))
    assert calls_after == calls_before  # nothing asked of HubSpot for a connection known dead


@pytest.mark.parametrize(
    ("subscription", "operation", "word"),
    [
        ("contact.creation", "contact_event", "contact"),
        ("company.propertyChange", "company_event", "company"),
        ("", "contact_event", "contact"),
        ("deal.propertyChange", "deal_event", "deal"),
    ],
)
def test_the_blocked_run_names_the_record_type_the_trigger_is_about(subscription, operation, word):
    trigger_data = {
        "event": {"subscription_type": subscription, "object_id": 77},
        "enrichment_error": {"code": "hubspot.not_found", "message_human": "HubSpot has no such record."},
    }
    [issue] = deal_event_preflight(
        node={"key": "start", "operation": operation}, organization=None, trigger_data=trigger_data, language="en"
    )
    message = issue["message_human"]
    assert f"could not read {word} 77" in message
    assert f"{word} was probably deleted" in message and f"the {word}'s next change" in message
    others = {"deal", "contact", "company"} - {word}
    assert not any(f" {other}" in message for other in others), message
