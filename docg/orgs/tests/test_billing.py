"""Billing endpoints: summary for members, Stripe Checkout and portal sessions for owners and admins."""

import pytest

from docg.audit.models import AuditEvent
from docg.executions.engine import execution_start
from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.choices import Role
from docg.orgs.models import Organization
from docg.orgs.services import membership_add
from docg.providers.stripe.tests.fake import API_KEY, PRICES, stripe_api  # noqa: F401
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db
FRONTEND = "https://app.docg.example"


def test_summary_shows_plan_usage_and_limit(cast, alice_api, vera_api):
    workflow = active_workflow(cast, PREPARE)
    for n in range(3):
        execution_start(workflow=workflow, trigger_data={"n": n}, by=cast.alice)
    for client in (alice_api, vera_api):  # viewers read it too
        body = client.get("/api/v1/billing").json()
        assert body["plan"] == "free" and body["plan_label"] == "Free"
        assert body["usage"]["monthly_executions"] == 3
        assert body["usage"]["limit"] == 100 and body["usage"]["remaining"] == 97
        assert body["usage"]["resets_at"] > body["usage"]["period_start"]
        assert [p["plan"] for p in body["plans"]] == ["free", "pro", "business"]
    assert api_client_for(cast.charlie).get("/api/v1/billing").json()["usage"]["monthly_executions"] == 0


def test_checkout_creates_the_customer_once_and_returns_the_session_url(cast, alice_api, stripe_api):  # noqa: F811
    response = alice_api.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json")
    assert response.status_code == 200, response.content
    session = stripe_api.created["/v1/checkout/sessions"][0]
    assert response.json() == {"url": session["url"]}

    customer_call, session_call = stripe_api.requests
    assert (customer_call.method, customer_call.path) == ("POST", "/v1/customers")
    assert customer_call.form == {
        "name": "Acme",
        "email": "alice@example.com",
        "metadata[organization_id]": str(cast.acme.pk),
    }
    assert customer_call.headers["idempotency-key"] == f"docg-customer-{cast.acme.pk}"
    customer_id = stripe_api.created["/v1/customers"][0]["id"]
    assert (session_call.method, session_call.path) == ("POST", "/v1/checkout/sessions")
    assert session_call.form == {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(cast.acme.pk),
        "line_items[0][price]": PRICES["pro"],
        "line_items[0][quantity]": "1",
        "success_url": f"{FRONTEND}/billing/?checkout=success",
        "cancel_url": f"{FRONTEND}/billing/?checkout=canceled",
        "metadata[organization_id]": str(cast.acme.pk),
        "metadata[plan]": "pro",
        "subscription_data[metadata][organization_id]": str(cast.acme.pk),
        "subscription_data[metadata][plan]": "pro",
    }
    for call in stripe_api.requests:
        assert call.headers["authorization"] == f"Bearer {API_KEY}"
        assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert call.headers["x-correlation-id"]
    assert Organization.objects.get(pk=cast.acme.pk).stripe_customer_id == customer_id
    # The plan changes only when Stripe's webhook says the payment went through.
    assert Organization.objects.get(pk=cast.acme.pk).plan == "free"
    assert AuditEvent.objects.filter(organization=cast.acme, action="billing.checkout_started").count() == 1

    # A second checkout reuses the customer.
    assert alice_api.post("/api/v1/billing/checkout", {"plan": "business"}, format="json").status_code == 200
    assert len(stripe_api.posts("/v1/customers")) == 1
    assert stripe_api.posts("/v1/checkout/sessions")[1].form["customer"] == customer_id


def test_portal_opens_for_a_customer_and_needs_one(cast, alice_api, stripe_api):  # noqa: F811
    refused = alice_api.post("/api/v1/billing/portal", format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "billing.no_customer"
    Organization.objects.filter(pk=cast.acme.pk).update(stripe_customer_id="cus_Acme123")
    response = alice_api.post("/api/v1/billing/portal", format="json")
    assert response.status_code == 200
    [call] = stripe_api.requests
    assert (call.method, call.path) == ("POST", "/v1/billing_portal/sessions")
    assert call.form == {"customer": "cus_Acme123", "return_url": f"{FRONTEND}/billing/"}
    assert response.json() == {"url": stripe_api.created["/v1/billing_portal/sessions"][0]["url"]}


def test_only_owners_and_admins_open_stripe_sessions(cast, stripe_api):  # noqa: F811
    Organization.objects.filter(pk=cast.acme.pk).update(stripe_customer_id="cus_Acme123")
    for user in (cast.bob, cast.vera):
        client = api_client_for(user)
        assert client.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json").status_code == 403
        assert client.post("/api/v1/billing/portal", format="json").status_code == 403
    assert stripe_api.requests == []
    membership_add(organization=cast.acme, user=cast.bob, role=Role.ADMIN)
    assert api_client_for(cast.bob).post("/api/v1/billing/portal", format="json").status_code == 200


def test_another_organization_is_404(cast, stripe_api):  # noqa: F811
    charlie = api_client_for(cast.charlie, cast.acme)
    assert charlie.get("/api/v1/billing").status_code == 404
    assert charlie.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json").status_code == 404
    assert charlie.post("/api/v1/billing/portal", format="json").status_code == 404
    assert stripe_api.requests == []


@pytest.mark.parametrize("body", [{}, {"plan": "free"}, {"plan": "platinum"}, {"plan": 5}])
def test_checkout_refuses_plans_it_cannot_sell(cast, alice_api, stripe_api, body):  # noqa: F811
    response = alice_api.post("/api/v1/billing/checkout", body, format="json")
    assert response.status_code == 400 and set(response.json()["error"]) == {"code", "message", "details"}
    assert stripe_api.requests == []


def test_an_active_subscriber_is_sent_to_the_portal_instead(cast, alice_api, stripe_api):  # noqa: F811
    Organization.objects.filter(pk=cast.acme.pk).update(
        plan="pro", stripe_customer_id="cus_A", stripe_subscription_id="sub_A", subscription_status="active"
    )
    response = alice_api.post("/api/v1/billing/checkout", {"plan": "business"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "billing.already_subscribed"
    assert stripe_api.requests == []


@pytest.mark.parametrize(("status", "transient"), [(401, False), (402, False), (429, True), (500, True)])
def test_stripe_errors_are_a_502_in_the_error_shape(cast, alice_api, stripe_api, status, transient):  # noqa: F811
    stripe_api.fail_next(status)
    response = alice_api.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "billing.provider_error" and error["details"]["transient"] is transient
    assert Organization.objects.get(pk=cast.acme.pk).stripe_customer_id == ""


def test_without_stripe_keys_billing_says_it_is_not_configured(cast, alice_api, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PRICE_IDS = {"pro": "price_pro", "business": ""}
    response = alice_api.post("/api/v1/billing/checkout", {"plan": "pro"}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "billing.not_configured"
    unsold = alice_api.post("/api/v1/billing/checkout", {"plan": "business"}, format="json")
    assert unsold.status_code == 400 and unsold.json()["error"]["code"] == "billing.plan_unavailable"
