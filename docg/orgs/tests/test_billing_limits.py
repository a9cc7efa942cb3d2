"""The plan's monthly run limit: a clear 402 through the API, the generic webhook and retries."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from docg.common.errors import DocgError
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.billing import month_start, runs_this_month
from docg.orgs.models import Organization, PlanUsage

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings):
    settings.BILLING_PLAN_LIMITS = {
        "free": {"monthly_executions": 2},
        "pro": {"monthly_executions": 3},
        "business": {"monthly_executions": None},
    }


def _start(api, workflow, **body):
    return api.post(f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {"n": 1}, **body}, format="json")


def _assert_limit_error(response, *, used=2, allowed=2, plan="free"):
    assert response.status_code == 402, response.content
    error = response.json()["error"]
    assert error["code"] == "plan_limit_reached"
    assert f"all {allowed} workflow runs" in error["message"] and "Upgrade" in error["message"]
    assert "/billing/" in error["message"]
    assert error["details"]["limit"] == "monthly_executions"
    assert (error["details"]["used"], error["details"]["allowed"], error["details"]["plan"]) == (used, allowed, plan)
    assert error["details"]["upgrade_url"].endswith("/billing/")


def test_the_api_refuses_the_run_past_the_free_limit_with_402(cast, alice_api, tight_limits):
    workflow = active_workflow(cast, PREPARE)
    assert _start(alice_api, workflow).status_code == 202
    assert _start(alice_api, workflow, dry_run=True).status_code == 202  # dry runs count too
    refused = _start(alice_api, workflow)
    _assert_limit_error(refused)
    assert WorkflowExecution.objects.filter(organization=cast.acme).count() == 2
    # Another organization has its own count.
    other = active_workflow(cast, PREPARE, organization=cast.globex)
    assert execution_start(workflow=other, trigger_data={}, by=cast.charlie).organization_id == cast.globex.pk


def test_the_generic_webhook_answers_402_in_the_error_shape(cast, tight_limits):
    workflow = active_workflow(cast, PREPARE)
    url = f"/hooks/{workflow.pk}/{workflow.webhook_secret}"
    client = Client(raise_request_exception=False)
    for n in range(2):
        assert client.post(url, data={"n": n}, content_type="application/json").status_code == 202
    refused = client.post(url, data={"n": 3}, content_type="application/json")
    _assert_limit_error(refused)
    assert set(refused.json()["error"]) == {"code", "message", "details"}
    # With an idempotency key the delivery row rolls back with the refused run: a later retry can still run.
    keyed = client.post(url, data={"n": 4}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-4")
    _assert_limit_error(keyed)
    assert WorkflowExecution.objects.filter(workflow=workflow).count() == 2


def test_retries_obey_the_limit_too(cast, alice_api, tight_limits):
    workflow = active_workflow(cast, PREPARE)
    first = execution_start(workflow=workflow, trigger_data={"n": 1}, by=cast.alice)
    execution_transition(execution=WorkflowExecution.objects.get(pk=first.pk), target=ExecutionStatus.CANCELED)
    execution_start(workflow=workflow, trigger_data={"n": 2}, by=cast.alice)
    response = alice_api.post(f"/api/v1/executions/{first.pk}/retry", {}, format="json")
    _assert_limit_error(response)


def test_runs_of_last_month_do_not_count_and_upgrading_lifts_the_limit(cast, alice_api, tight_limits):
    workflow = active_workflow(cast, PREPARE)
    for n in range(2):
        execution_start(workflow=workflow, trigger_data={"n": n}, by=cast.alice)
    _assert_limit_error(_start(alice_api, workflow))
    # The month turned: those two runs now belong to the previous one.
    last_month = (month_start() - timedelta(seconds=1)).replace(day=1).date()
    PlanUsage.objects.filter(organization=cast.acme).update(month=last_month)
    assert runs_this_month(organization=cast.acme) == 0
    assert _start(alice_api, workflow).status_code == 202
    assert _start(alice_api, workflow).status_code == 202
    _assert_limit_error(_start(alice_api, workflow))
    Organization.objects.filter(pk=cast.acme.pk).update(plan="pro")
    assert _start(alice_api, workflow).status_code == 202
    _assert_limit_error(_start(alice_api, workflow), used=3, allowed=3, plan="pro")
    Organization.objects.filter(pk=cast.acme.pk).update(plan="business")
    assert _start(alice_api, workflow).status_code == 202


def test_the_month_is_counted_in_utc(cast):
    start = month_start()
    assert (start.day, start.hour, start.minute, start.utcoffset()) == (1, 0, 0, timedelta(0))
    assert start <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_parallel_starts_at_the_last_free_run_let_exactly_one_through(cast, tight_limits):
    workflow = active_workflow(cast, PREPARE)
    execution_start(workflow=workflow, trigger_data={"n": 0}, by=cast.alice)
    parallel = 5
    barrier = threading.Barrier(parallel, timeout=10)
    outcomes: list[str] = []

    def start() -> None:
        try:
            barrier.wait()
            execution_start(workflow=workflow, trigger_data={"n": 1}, by=cast.alice)
            outcomes.append("started")
        except DocgError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # reported below, not lost in the thread
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=start, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["plan_limit_reached"] * (parallel - 1) + ["started"]
    assert WorkflowExecution.objects.filter(organization=cast.acme).count() == 2
    assert runs_this_month(organization=cast.acme) == 2


def test_a_start_that_fails_after_taking_a_run_gives_it_back(cast, tight_limits):
    workflow = active_workflow(cast, PREPARE, activate=False)

    with pytest.raises(DocgError, match="not active"):
        execution_start(workflow=workflow, trigger_data={}, by=cast.alice)

    assert runs_this_month(organization=cast.acme) == 0
