"""POST /hooks/stripe/: Stripe-Signature checked (300 s tolerance) before anything is stored; each event once."""

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client

from docg.audit.models import AuditEvent
from docg.orgs.models import BillingEvent, Organization
from docg.providers.stripe.tests.fake import PRICES, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
URL = "/hooks/stripe/"


def _signature(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _event(event_type: str, obj: dict, event_id: str | None = None, created: int | None = None) -> str:
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event)


def _deliver(payload: str, signature: str | None = None, **kwargs):
    headers = {"HTTP_STRIPE_SIGNATURE": signature if signature is not None else _signature(payload, **kwargs)}
    return Client().post(URL, data=payload, content_type="application/json", **headers)


def _checkout_completed(org, plan="pro", **extra) -> dict:
    return {
        "id": "cs_test_a1b2c3",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": "cus_Acme123",
        "subscription": "sub_Acme123",
        "client_reference_id": str(org.pk),
        "payment_status": "paid",
        "status": "complete",
        "metadata": {"organization_id": str(org.pk), "plan": plan},
        **extra,
    }


def _subscription(org, status="active", price=PRICES["business"], sub_id="sub_Acme123") -> dict:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": "cus_Acme123",
        "status": status,
        "metadata": {"organization_id": str(org.pk)},
        "items": {
            "object": "list",
            "data": [{"id": "si_1", "price": {"id": price}, "current_period_end": 1_900_000_000}],
        },
    }


def _billing_state(org) -> tuple:
    org = Organization.objects.get(pk=org.pk)
    return (org.plan, org.stripe_customer_id, org.stripe_subscription_id, org.subscription_status)


def _billing_audits(org) -> list[tuple[str, dict]]:
    return list(
        AuditEvent.objects.filter(organization=org, action__startswith="billing.")
        .order_by("sequence")
        .values_list("action", "event_metadata")
    )


def test_a_valid_checkout_completed_upgrades_the_plan_once_with_an_audit_row(cast, stripe_api):
    response = _deliver(_event("checkout.session.completed", _checkout_completed(cast.acme), "evt_checkout_1"))
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False, "outcome": response.json()["outcome"]}
    assert _billing_state(cast.acme) == ("pro", "cus_Acme123", "sub_Acme123", "active")
    [(action, metadata)] = _billing_audits(cast.acme)
    assert action == "billing.plan_changed"
    assert (metadata["plan_from"], metadata["plan_to"], metadata["stripe_event_id"]) == (
        "free",
        "pro",
        "evt_checkout_1",
    )
    assert _billing_state(cast.globex)[0] == "free"


def test_a_forged_signature_is_400_and_changes_nothing(cast, stripe_api):
    payload = _event("checkout.session.completed", _checkout_completed(cast.acme))
    response = _deliver(payload, secret="whsec_guessed_by_an_attacker")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "stripe.bad_signature"
    # A valid signature of another body does not carry over either.
    other = _signature(_event("checkout.session.completed", _checkout_completed(cast.acme, plan="business")))
    assert _deliver(payload, signature=other).status_code == 400
    assert _deliver(payload, signature="").status_code == 400
    assert _deliver(payload, signature="t=abc,v1=").status_code == 400
    assert _deliver(payload, signature="t=1,v1=\u00e9").status_code == 400  # non-ASCII: not a crash
    assert _billing_state(cast.acme) == ("free", "", "", "")
    assert not BillingEvent.objects.exists() and _billing_audits(cast.acme) == []


def test_a_stale_timestamp_beyond_300_seconds_is_400_even_when_correctly_signed(cast, stripe_api):
    payload = _event("checkout.session.completed", _checkout_completed(cast.acme))
    response = _deliver(payload, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "stripe.bad_signature"
    assert _billing_state(cast.acme) == ("free", "", "", "")
    assert not BillingEvent.objects.exists()
    # Within the window it is accepted: the tolerance is 300 s, not "any age".
    assert _deliver(payload, timestamp=int(time.time()) - 240).status_code == 200


def test_a_replayed_event_is_acknowledged_without_a_second_effect(cast, stripe_api):
    payload = _event("checkout.session.completed", _checkout_completed(cast.acme), "evt_replayed")
    assert _deliver(payload).json()["duplicate"] is False
    # Meanwhile the organization went back to free (say, a refund handled by staff).
    Organization.objects.filter(pk=cast.acme.pk).update(plan="free")
    again = _deliver(payload)  # freshly signed: a replay within the window, or Stripe's own redelivery
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _billing_state(cast.acme)[0] == "free"
    assert BillingEvent.objects.filter(stripe_event_id="evt_replayed").count() == 1
    assert len(_billing_audits(cast.acme)) == 1


def test_subscription_lifecycle_updates_plan_status_and_period(cast, stripe_api):
    assert _deliver(_event("customer.subscription.created", _subscription(cast.acme))).status_code == 200
    org = Organization.objects.get(pk=cast.acme.pk)
    assert (org.plan, org.subscription_status, org.stripe_subscription_id) == ("business", "active", "sub_Acme123")
    assert org.current_period_end == datetime.fromtimestamp(1_900_000_000, tz=UTC)

    _deliver(_event("invoice.payment_failed", {"id": "in_1", "object": "invoice", "customer": "cus_Acme123"}))
    assert _billing_state(cast.acme) == ("business", "cus_Acme123", "sub_Acme123", "past_due")

    _deliver(_event("customer.subscription.updated", _subscription(cast.acme, price=PRICES["pro"])))
    assert _billing_state(cast.acme) == ("pro", "cus_Acme123", "sub_Acme123", "active")

    _deliver(_event("customer.subscription.deleted", _subscription(cast.acme, status="canceled")))
    assert _billing_state(cast.acme) == ("free", "cus_Acme123", "sub_Acme123", "canceled")
    actions = [action for action, _ in _billing_audits(cast.acme)]
    assert actions == ["billing.plan_changed", "billing.payment_failed", "billing.plan_changed", "billing.plan_changed"]


def test_the_end_of_an_older_subscription_does_not_downgrade_the_current_one(cast, stripe_api):
    _deliver(_event("customer.subscription.created", _subscription(cast.acme, sub_id="sub_new")))
    _deliver(_event("customer.subscription.deleted", _subscription(cast.acme, status="canceled", sub_id="sub_old")))
    assert _billing_state(cast.acme) == ("business", "cus_Acme123", "sub_new", "active")


def test_a_late_older_subscription_event_does_not_undo_a_cancellation(cast, stripe_api):
    # Stripe does not deliver in order: an 'updated: active' retried after the 'deleted' must not revive the plan.
    now = int(time.time())
    _deliver(_event("customer.subscription.created", _subscription(cast.acme), created=now - 300))
    _deliver(_event("customer.subscription.deleted", _subscription(cast.acme, status="canceled"), created=now - 100))
    late = _deliver(_event("customer.subscription.updated", _subscription(cast.acme), created=now - 200))
    assert late.status_code == 200
    assert _billing_state(cast.acme) == ("free", "cus_Acme123", "sub_Acme123", "canceled")


def test_events_found_by_customer_id_and_unknown_ones_are_acknowledged(cast, stripe_api):
    Organization.objects.filter(pk=cast.globex.pk).update(stripe_customer_id="cus_Globex")
    invoice = {"id": "in_2", "object": "invoice", "customer": "cus_Globex"}
    assert _deliver(_event("invoice.payment_failed", invoice)).status_code == 200
    assert _billing_state(cast.globex)[3] == "past_due" and _billing_state(cast.acme)[3] == ""
    # Someone else's customer, or an event type docg does not handle: 200 (so Stripe stops), no change.
    stranger = {"id": "in_3", "object": "invoice", "customer": "cus_Unknown"}
    assert _deliver(_event("invoice.payment_failed", stranger)).json()["outcome"] == "no matching organization"
    assert _deliver(_event("charge.refunded", {"id": "ch_1", "object": "charge"})).json()["outcome"] == "ignored"
    assert _billing_state(cast.acme) == ("free", "", "", "")


def test_junk_bodies_and_methods_get_4xx_in_the_error_shape(cast, stripe_api):
    for payload in ("not json", "[1, 2]", json.dumps({"id": "evt_x", "type": "checkout.session.completed"})):
        response = _deliver(payload)
        assert response.status_code == 400, payload
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert Client().get(URL).status_code == 405
    assert not BillingEvent.objects.exists()


def test_without_a_configured_secret_nothing_is_accepted(cast, stripe_api, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = _event("checkout.session.completed", _checkout_completed(cast.acme))
    response = _deliver(payload)
    assert response.status_code == 503 and response.json()["error"]["code"] == "stripe.not_configured"
    assert _billing_state(cast.acme)[0] == "free"
