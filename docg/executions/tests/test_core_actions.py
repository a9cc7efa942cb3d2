import json

import pytest

from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)


def _notify(url: str) -> dict:
    return action(
        "notify",
        "http_request",
        parameters={
            "method": "POST",
            "url": url + "/hook",
            "headers": {"X-Custom": "{{ trigger.customer }}"},
            "body": {"customer": "{{ trigger.customer }}", "amount": "{{ trigger.amount }}"},
            "timeout": 5,
        },
    )


def test_http_request_reaches_an_allow_listed_server_with_correlation_and_idempotency_headers(
    cast, worker, settings, loopback_server
):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    workflow = active_workflow(cast, _notify(loopback_server.url))
    execution = execution_start(workflow=workflow, trigger_data={"customer": "Ana", "amount": 10}, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech

    [request] = loopback_server.received
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert (request["method"], request["path"]) == ("POST", "/hook")
    assert headers["x-correlation-id"] == str(done.correlation_id)
    assert headers["idempotency-key"] == f"{done.pk}:notify:1"
    assert headers["x-custom"] == "Ana"
    assert json.loads(request["body"]) == {"customer": "Ana", "amount": 10}
    step = done.steps.get(node_key="notify")
    assert (step.status, step.data_out["status"], step.data_out["body"]) == (StepStatus.SUCCESS, 200, {"ok": True})


def test_http_request_to_loopback_is_refused_when_not_allow_listed(cast, worker, settings, loopback_server):
    settings.SSRF_ALLOWED_NETWORKS = []
    workflow = active_workflow(cast, _notify(loopback_server.url))
    execution = execution_start(workflow=workflow, trigger_data={"customer": "Ana", "amount": 10}, by=cast.alice)
    done = wait_for_status(execution.pk, *DONE)
    assert (done.status, done.last_error_code) == (ExecutionStatus.FAILED, "http.blocked_address")
    [step] = done.steps.filter(node_key="notify")  # not transient: no second attempt
    assert (step.status, step.error_code) == (StepStatus.FAILURE, "http.blocked_address")
    assert "127.0.0.1" in step.error_human
    assert loopback_server.received == []


def test_set_variables_output_is_the_rendered_mapping(cast, worker):
    workflow = active_workflow(
        cast,
        action(
            "vars",
            "set_variables",
            parameters={"variables": {"n": "{{ trigger.n + 1 }}", "text": "N={{ trigger.n }}", "fixed": [1, 2]}},
        ),
    )
    done = wait_for_status(execution_start(workflow=workflow, trigger_data={"n": 1}, by=cast.alice).pk, *DONE)
    assert done.steps.get(node_key="vars").data_out == {"n": 2, "text": "N=1", "fixed": [1, 2]}


def test_branch_without_else_falls_through_to_the_next_node(cast, worker):
    workflow = active_workflow(
        cast,
        action("route", "branch", branches=[{"when": "trigger.vip", "next": "vip"}]),
        action("regular", "set_variables", parameters={"variables": {"kind": "regular"}}, next="end"),
        action("vip", "set_variables", parameters={"variables": {"kind": "vip"}}),
        action("end", "set_variables", parameters={"variables": {"done": True}}),
    )
    done = wait_for_status(execution_start(workflow=workflow, trigger_data={"vip": False}, by=cast.alice).pk, *DONE)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    assert [s.node_key for s in done.steps.order_by("index")] == ["start", "route", "regular", "end"]
