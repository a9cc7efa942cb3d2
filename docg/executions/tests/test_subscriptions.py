"""Outgoing event subscriptions: signed deliveries to a loopback receiver that goes down and comes back."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from docg.executions import dispatch, subscriptions
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.models import EventDelivery, EventSubscription
from docg.executions.tests.builders import PREPARE, active_workflow
from tests.fixtures.cast import api_client_for


class Receiver:
    """Checks every delivery's signature and timestamp; answers 503 while `down`."""

    def __init__(self):
        self.secret = ""
        self.down = False
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                stamp = self.headers.get("X-Docg-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(receiver.secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers.get("X-Docg-Signature", ""))
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
                with receiver.lock:
                    receiver.received.append(
                        {"body": json.loads(body), "valid": valid and fresh, "id": self.headers.get("X-Docg-Event-Id")}
                    )
                code = 503 if receiver.down else (200 if valid and fresh else 401)
                payload = b'{"ok": false}' if code != 200 else b'{"ok": true}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/docg"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def receiver(settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SUBSCRIPTION_RETRY_SECONDS = [0]  # Due again at once: the test steps time by hand.
    instance = Receiver()
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


def subscribe(client, url, *types) -> dict:
    response = client.post(
        "/api/v1/event-subscriptions", {"url": url, "event_types": list(types), "description": "ERP"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.django_db
def test_deliveries_are_signed_retried_while_the_receiver_is_down_and_visible(cast, receiver, alice_api):
    created = subscribe(alice_api, receiver.url, "execution.created", "execution.completed")
    assert created["secret"].startswith("whsec_")
    assert "secret" not in alice_api.get(f"/api/v1/event-subscriptions/{created['id']}").json()
    receiver.secret = created["secret"]

    workflow = active_workflow(cast, PREPARE)
    receiver.down = True
    with dispatch.inline():  # The run, in this process: no worker to race the test's deliveries.
        execution = execution_start(workflow=workflow, trigger_data={"customer": "ana"}, by=cast.alice)
    # The run did not wait for anyone's receiver.
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED

    assert subscriptions.subscriptions_dispatch() == 2
    assert subscriptions.subscriptions_dispatch() == 0  # The cursor moved: nothing twice.
    assert subscriptions.deliveries_send() == 2
    assert subscriptions.deliveries_send() == 2  # Due again (the test's backoff is 0 s).
    pending = EventDelivery.objects.filter(status="pending", attempts=2)
    assert pending.count() == 2

    receiver.down = False
    assert subscriptions.deliveries_send() == 2
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert all(r["valid"] for r in receiver.received)
    ids = [r["id"] for r in receiver.received]
    assert len(ids) == 6 and len(set(ids)) == 2  # The same event id on every attempt.
    bodies = {r["body"]["type"]: r["body"] for r in receiver.received}
    assert set(bodies) == {"execution.created", "execution.completed"}
    assert bodies["execution.completed"]["data"]["execution_id"] == str(execution.pk)
    assert bodies["execution.completed"]["organization_id"] == str(cast.acme.pk)

    listed = alice_api.get("/api/v1/event-deliveries", {"subscription": created["id"]}).json()["results"]
    completed = next(d for d in listed if d["event_type"] == "execution.completed")
    assert [a["status_code"] for a in completed["attempt_log"]] == [503, 503, 200]
    assert completed["attempt_log"][0]["response_excerpt"] == '{"ok": false}'
    assert all(a["latency_ms"] >= 0 for a in completed["attempt_log"])

    # A manual re-send: the same event again, by hand.
    response = alice_api.post(f"/api/v1/event-deliveries/{completed['id']}/resend")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert subscriptions.deliveries_send() == 1
    assert receiver.received[-1]["id"] == completed["event_id"]
    assert EventDelivery.objects.get(pk=completed["id"]).attempts == 4


@pytest.mark.django_db
def test_retries_stop_after_the_window_and_a_failing_subscription_is_disabled(
    cast, receiver, alice_api, settings, django_capture_on_commit_callbacks
):
    created = subscribe(alice_api, receiver.url, "execution.created")
    receiver.secret, receiver.down = created["secret"], True
    execution_start(workflow=active_workflow(cast, PREPARE), trigger_data={}, by=cast.alice)
    subscriptions.subscriptions_dispatch()

    settings.SUBSCRIPTION_RETRY_HOURS = 0  # The 24 hours have passed.
    subscriptions.deliveries_send()
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)

    # Failing for more than three days: disabled, owners emailed.
    EventSubscription.objects.filter(pk=created["id"]).update(failing_since=timezone.now() - timedelta(days=3, hours=1))
    alice_api.post(f"/api/v1/event-deliveries/{delivery.pk}/resend")
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.deliveries_send()
    subscription = EventSubscription.objects.get(pk=created["id"])
    assert subscription.is_active is False and subscription.disabled_at
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [cast.alice.email]
    assert receiver.url in mail.outbox[0].body
    # Turned back on by an owner.
    response = alice_api.patch(f"/api/v1/event-subscriptions/{created['id']}", {"is_active": True}, format="json")
    assert response.json()["is_active"] is True and response.json()["failing_since"] is None


@pytest.mark.django_db
def test_the_address_guard_refuses_internal_receivers(cast, receiver, alice_api, settings):
    created = subscribe(alice_api, receiver.url, "execution.created")
    settings.SSRF_ALLOWED_NETWORKS = []
    execution_start(workflow=active_workflow(cast, PREPARE), trigger_data={}, by=cast.alice)
    subscriptions.subscriptions_dispatch()
    subscriptions.deliveries_send()
    attempt = EventDelivery.objects.get(subscription_id=created["id"]).attempt_rows.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused by the address guard")
    assert receiver.received == []


@pytest.mark.django_db
def test_only_owners_and_admins_manage_subscriptions_and_only_their_own(cast, alice_api, receiver):
    bad = alice_api.post("/api/v1/event-subscriptions", {"url": receiver.url, "event_types": ["nope"]}, format="json")
    assert bad.status_code == 400
    member = api_client_for(cast.bob)
    assert (
        member.post(
            "/api/v1/event-subscriptions", {"url": receiver.url, "event_types": ["execution.failed"]}, format="json"
        ).status_code
        == 403
    )
    theirs = subscribe(api_client_for(cast.charlie), receiver.url, "execution.failed")
    assert alice_api.get(f"/api/v1/event-subscriptions/{theirs['id']}").status_code == 404
    assert alice_api.delete(f"/api/v1/event-subscriptions/{theirs['id']}").status_code == 404
    assert alice_api.get("/api/v1/event-subscriptions").json()["results"] == []
    mine = subscribe(alice_api, receiver.url, "execution.failed")
    assert alice_api.delete(f"/api/v1/event-subscriptions/{mine['id']}").status_code == 204


@pytest.mark.django_db
def test_the_dispatch_is_enqueued_once_per_interval_across_workers(monkeypatch):
    from django.core.cache import cache

    from docg.executions import actors

    sent = []
    monkeypatch.setattr(actors.deliver_events, "send", lambda: sent.append(1))
    cache.delete(subscriptions.DISPATCH_CLAIM_KEY)
    assert subscriptions.subscriptions_tick() is True
    assert subscriptions.subscriptions_tick() is False  # Another worker's tick in the same interval.
    assert sent == [1]
    cache.delete(subscriptions.DISPATCH_CLAIM_KEY)
