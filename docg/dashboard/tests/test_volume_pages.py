"""The dashboard's event-subscriptions page: add one, see each delivery's attempts, send one again (issue 15)."""

import pytest

from docg.executions import subscriptions
from docg.executions.models import DeliveryAttempt, EventDelivery, EventSubscription

pytestmark = pytest.mark.django_db
PAGE = "/settings/subscriptions/"


def test_managers_add_a_subscription_and_see_its_secret_once(client, cast):
    client.force_login(cast.alice)
    response = client.post(
        PAGE, {"url": "https://erp.example.com/hooks", "event_types": ["execution.failed", "signature.completed"]}
    )
    assert response.status_code == 200
    subscription = EventSubscription.objects.get(organization=cast.acme)
    assert subscription.event_types == ["execution.failed", "signature.completed"]
    assert subscription.secret in response.content.decode()
    assert subscription.secret not in client.get(PAGE).content.decode()

    bad = client.post(PAGE, {"url": "not a url", "event_types": ["execution.failed"]})
    assert b"message error" in bad.content
    assert EventSubscription.objects.count() == 1


def test_attempts_show_and_a_failed_delivery_can_be_sent_again(client, cast):
    subscription = subscriptions.subscription_create(
        organization=cast.acme, by=cast.alice, url="https://erp.example.com/hooks", event_types=["execution.failed"]
    )
    delivery = EventDelivery.objects.create(
        organization=cast.acme,
        subscription=subscription,
        event_id="0b7c6a2e-9d7a-4c55-8d55-0d8f6c1f4a11",
        event_type="execution.failed",
        body="{}",
        status="failed",
        attempts=1,
    )
    DeliveryAttempt.objects.create(
        organization=cast.acme, delivery=delivery, number=1, status_code=500, latency_ms=12, response_excerpt="oops"
    )
    client.force_login(cast.alice)
    page = client.get(PAGE).content.decode()
    assert "HTTP 500 · 12 ms" in page and "oops" in page
    response = client.post(f"/settings/subscriptions/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None

    # Members read; they neither add nor re-send. Another organization's delivery is a 404.
    client.force_login(cast.bob)
    assert b"data-subscription-form" not in client.get(PAGE).content
    assert client.post(f"/settings/subscriptions/deliveries/{delivery.pk}/resend/").status_code == 404
    client.force_login(cast.charlie)
    assert b"erp.example.com" not in client.get(PAGE).content
    assert client.post(f"/settings/subscriptions/deliveries/{delivery.pk}/resend/").status_code == 404
