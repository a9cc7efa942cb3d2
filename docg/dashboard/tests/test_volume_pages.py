"""The dashboard's volume pages (issue 15): event subscriptions with their attempts; runs selected on the runs
list for a bulk retry or cancel, and its confirmation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from docg.executions import bulk, subscriptions
from docg.executions.choices import ExecutionStatus
from docg.executions.models import (
    BulkOperation,
    DeliveryAttempt,
    EventDelivery,
    EventSubscription,
    WorkflowExecution,
)
from docg.executions.tests.builders import PREPARE, active_workflow

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


def _failed(cast, workflow, count: int, organization=None) -> list[str]:
    workflow.refresh_from_db()
    runs = WorkflowExecution.objects.bulk_create(
        WorkflowExecution(
            organization=organization or cast.acme,
            workflow=workflow,
            workflow_version=workflow.active_version,
            status=ExecutionStatus.FAILED,
        )
        for _ in range(count)
    )
    return [str(r.pk) for r in runs]


def test_the_runs_list_offers_selection_to_writers_only(client, cast):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    _failed(cast, workflow, 2)
    client.force_login(cast.alice)
    page = client.get("/executions/?status=failed").content.decode()
    assert page.count("data-select-run") == 2 and "data-select-page" in page
    assert '<input type="hidden" name="status" value="failed">' in page
    assert "All 2 runs that match this filter" in page
    client.force_login(cast.vera)
    assert "data-select-run" not in client.get("/executions/").content.decode()


def test_a_selection_is_confirmed_with_its_exact_count_and_a_changed_count_asks_again(
    client, cast, monkeypatch, settings
):
    monkeypatch.setattr(bulk, "_send", lambda pk: None)
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    ids = _failed(cast, workflow, 3)
    running = WorkflowExecution.objects.create(
        organization=cast.acme, workflow=workflow, workflow_version=workflow.active_version, status="running"
    )
    client.force_login(cast.alice)
    page = client.post("/runs/bulk/", {"scope": "selected", "action": "retry", "ids": [*ids[:2], running.pk]})
    html = page.content.decode()
    assert 'data-count="2"' in html and "This will retry 2 runs." in html
    assert "You selected 3 runs" in html and "data-bulk-left-alone" in html
    assert 'name="from_step"' in html and "<select" in html  # One workflow: its steps to choose from.
    assert "data-bulk-plan-remaining" not in html  # The free plan starts 100 more runs this month.
    settings.BILLING_PLAN_LIMITS = {**settings.BILLING_PLAN_LIMITS, "free": {"monthly_executions": 1}}
    short = client.post("/runs/bulk/", {"scope": "selected", "action": "retry", "ids": ids[:2]}).content.decode()
    assert 'data-bulk-plan-remaining="1"' in short and "the retries past that will fail" in short
    assert not BulkOperation.objects.exists()

    # Confirmed for a count that is no longer true (a third run, or another action): shown again, nothing done.
    stale = {"scope": "selected", "ids": ids, "confirm": "1"}
    assert b'data-count="3"' in client.post("/runs/bulk/", {**stale, "action": "retry", "expected": "retry:2"}).content
    assert b'data-count="0"' in client.post("/runs/bulk/", {**stale, "action": "cancel", "expected": "retry:3"}).content
    assert not BulkOperation.objects.exists()
    done = client.post("/runs/bulk/", {**stale, "action": "retry", "expected": "retry:3"})
    operation = BulkOperation.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/runs/bulk/{operation.pk}/"
    assert (operation.total, operation.filter) == (3, {"ids": ids})


def test_bad_selections_are_said_never_a_500(client, cast):
    workflow = active_workflow(cast, PREPARE)
    theirs = _failed(cast, active_workflow(cast, PREPARE, organization=cast.globex), 1, organization=cast.globex)
    client.force_login(cast.alice)
    nothing = client.post("/runs/bulk/", {"scope": "selected", "action": "retry", "status": "failed"})
    assert nothing.status_code == 302 and nothing["Location"] == "/executions/?status=failed"
    other = client.post("/runs/bulk/", {"scope": "selected", "action": "retry", "ids": theirs})
    assert b"Some runs do not exist." in other.content
    garbage = client.post("/runs/bulk/", {"action": "retry", "workflow": "not-a-uuid", "date_from": "yesterday"})
    assert garbage.status_code == 200
    assert b"data-bulk-preview" in garbage.content  # Counted over the valid fields only.
    assert str(workflow.pk) in garbage.content.decode()  # The form still lists this organization's workflows.


def test_all_that_match_reads_the_days_as_the_runs_list_does(client, cast, monkeypatch):
    workflow = active_workflow(cast, PREPARE)
    ids = _failed(cast, workflow, 2)
    WorkflowExecution.objects.filter(pk=ids[0]).update(created_at=timezone.now() - timedelta(days=3))
    today = timezone.localdate().isoformat()
    client.force_login(cast.alice)
    listed = client.get(f"/executions/?date_from={today}&date_to={today}").content.decode()
    assert "The 1 run that matches this filter" in listed
    page = client.post("/runs/bulk/", {"scope": "filter", "action": "retry", "date_from": today, "date_to": today})
    assert b'data-count="1"' in page.content
