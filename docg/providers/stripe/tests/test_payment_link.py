"""stripe.create_payment_link against a loopback fake of the Stripe API, and the client's error classes."""

import pytest

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext
from docg.connectors.services import connection_create
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.tests.builders import action, active_workflow
from docg.providers.stripe import actions
from docg.providers.stripe.client import StripeApi
from docg.providers.stripe.tests.fake import API_KEY
from tests.fixtures.engine import wait_for_status

ORG_KEY = "sk_test_acme_51Hx9QkLkdIwHu7ix"
PARAMS = {"product_name": "Consulting  package", "unit_amount": 125000, "currency": "BRL", "quantity": 2}


def _connection(cast, api_key=ORG_KEY):
    return connection_create(
        organization=cast.acme, by=cast.alice, provider="stripe", name="Stripe", credentials={"api_key": api_key}
    )


def _node(connection, **parameters):
    return action(
        "link",
        "create_payment_link",
        app="stripe",
        connection=connection,
        parameters={**PARAMS, **parameters},
    )


def _context(cast, connection, execution, *, dry_run=False, attempt=1):
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": "link"},
        organization=cast.acme,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:link:{attempt}",
        correlation_id=str(execution.correlation_id),
        language="en",
        connection=connection,
    )


@pytest.fixture
def org_stripe(stripe_api):
    stripe_api.api_key = ORG_KEY  # the action uses the organization's key, not the platform's
    return stripe_api


@pytest.fixture
def execution(cast, org_stripe):
    connection = _connection(cast)
    workflow = active_workflow(cast, _node(connection))
    return execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice), connection


@pytest.mark.django_db(transaction=True)
def test_a_run_creates_a_price_then_a_payment_link_and_outputs_its_url(cast, worker, org_stripe):
    connection = _connection(cast)
    workflow = active_workflow(cast, _node(connection, product_name="Plan for {{ trigger.customer }}"))
    started = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)
    done = wait_for_status(started.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    price_call, link_call = org_stripe.requests
    assert (price_call.method, price_call.path) == ("POST", "/v1/prices")
    assert price_call.form == {"currency": "brl", "unit_amount": "125000", "product_data[name]": "Plan for Ana"}
    assert (link_call.method, link_call.path) == ("POST", "/v1/payment_links")
    price_id = org_stripe.created["/v1/prices"][0]["id"]
    assert link_call.form == {
        "line_items[0][price]": price_id,
        "line_items[0][quantity]": "2",
        "metadata[docg_execution_id]": str(done.pk),
        "metadata[docg_node_key]": "link",
    }
    for call in (price_call, link_call):
        assert call.headers["authorization"] == f"Bearer {ORG_KEY}"
        assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert call.headers["x-correlation-id"] == str(done.correlation_id)
        assert call.headers["idempotency-key"].startswith("docg-")
    assert price_call.headers["idempotency-key"] != link_call.headers["idempotency-key"]

    output = done.steps.get(node_key="link").data_out
    link = org_stripe.created["/v1/payment_links"][0]
    assert output["url"] == link["url"] and output["payment_link_id"] == link["id"]
    assert output["price_id"] == price_id and output["dry_run"] is False


@pytest.mark.django_db
def test_a_retried_step_gets_the_same_link_back_not_a_second_one(cast, execution, org_stripe):
    started, connection = execution
    first = actions.create_payment_link(_context(cast, connection, started, attempt=1), PARAMS)
    again = actions.create_payment_link(_context(cast, connection, started, attempt=2), PARAMS)
    assert first.output["url"] == again.output["url"]
    assert len(org_stripe.created["/v1/payment_links"]) == 1 and len(org_stripe.created["/v1/prices"]) == 1
    keys = [r.headers["idempotency-key"] for r in org_stripe.posts("/v1/payment_links")]
    assert len(keys) == 2 and keys[0] == keys[1]


@pytest.mark.django_db
def test_a_retry_after_a_stripe_outage_makes_one_link(cast, execution, org_stripe):
    started, connection = execution
    org_stripe.fail_next(500)
    with pytest.raises(DocgError) as info:
        actions.create_payment_link(_context(cast, connection, started, attempt=1), PARAMS)
    assert info.value.transient is True and info.value.code == "stripe.unavailable"
    result = actions.create_payment_link(_context(cast, connection, started, attempt=2), PARAMS)
    assert result.output["url"].startswith("https://buy.stripe.com/")
    assert len(org_stripe.created["/v1/payment_links"]) == 1


@pytest.mark.django_db
def test_dry_run_creates_nothing(cast, execution, org_stripe):
    started, connection = execution
    result = actions.create_payment_link(_context(cast, connection, started, dry_run=True), PARAMS)
    assert result.output["dry_run"] is True and result.output["url"] == ""
    assert result.output["unit_amount"] == 125000 and result.output["currency"] == "brl"
    assert org_stripe.requests == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {**PARAMS, "unit_amount": 0},
        {**PARAMS, "unit_amount": "twelve"},
        {**PARAMS, "quantity": -1},
        {**PARAMS, "product_name": "   "},
    ],
)
def test_bad_parameters_are_permanent_errors_before_any_call(cast, execution, org_stripe, params):
    started, connection = execution
    with pytest.raises(DocgError) as info:
        actions.create_payment_link(_context(cast, connection, started), params)
    assert info.value.code == "stripe.invalid_parameter" and info.value.transient is False
    assert org_stripe.requests == []


@pytest.mark.django_db
def test_a_missing_or_revoked_connection_is_a_permanent_error(cast, execution, org_stripe):
    started, connection = execution
    with pytest.raises(DocgError) as info:
        actions.create_payment_link(_context(cast, None, started), PARAMS)
    assert info.value.code == "connection.inactive" and not info.value.transient
    connection.status = "revoked"
    with pytest.raises(DocgError) as info:
        actions.create_payment_link(_context(cast, connection, started), PARAMS)
    assert info.value.code == "connection.inactive" and not info.value.transient
    assert org_stripe.requests == []


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (401, "stripe.unauthorized", False),
        (402, "stripe.card_error", False),
        (429, "stripe.rate_limited", True),
        (500, "stripe.unavailable", True),
        (503, "stripe.unavailable", True),
    ],
)
def test_the_client_classifies_documented_errors(stripe_api, status, code, transient):
    stripe_api.fail_next(status, {"Retry-After": "7"} if status == 429 else None)
    with pytest.raises(DocgError) as info:
        StripeApi(API_KEY).create_customer(name="Acme", metadata={"organization_id": "x"})
    assert (info.value.code, info.value.transient) == (code, transient)
    assert info.value.details["status_code"] == status
    if status == 402:
        assert "Your card was declined" in info.value.human
        assert info.value.details["stripe_code"] == "card_declined"
    if status == 429:
        assert info.value.details["retry_after"] == "7"


def test_a_wrong_key_is_refused_by_stripe_and_never_retried(stripe_api):
    with pytest.raises(DocgError) as info:
        StripeApi("sk_test_wrong").create_price(product_name="x", unit_amount=1, currency="usd", idempotency_key="k")
    assert (info.value.code, info.value.transient) == ("stripe.unauthorized", False)
    assert len(stripe_api.requests) == 1  # stripe-python's own retries are off


def test_an_unreachable_stripe_is_transient(settings):
    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "stripe": "http://127.0.0.1:9"}
    with pytest.raises(DocgError) as info:
        StripeApi(API_KEY).create_customer(name="Acme", metadata={})
    assert (info.value.code, info.value.transient) == ("stripe.unavailable", True)
