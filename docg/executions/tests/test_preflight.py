"""Preflight (PRODUCT.md section 5): issues by domain, blocking vs warnings, recommended actions."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from docg.connectors import registry
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.connectors.registry import App, Operation
from docg.connectors.runtime import ActionResult
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.preflight import DOMAINS, preflight_check
from docg.executions.tests.conftest import TRIGGER, action, active_workflow
from tests.fixtures.engine import wait_for_status

pytestmark = pytest.mark.django_db


def _check(cast, *nodes, trigger_data=None, organization=None):
    return preflight_check(
        organization=organization or cast.acme, nodes=[TRIGGER, *nodes], trigger_data=trigger_data or {}
    )


def _connection(organization, status=ConnectionStatus.ACTIVE, **extra):
    return DataSourceConnection.objects.create(
        organization=organization, provider="google", name="Drive", status=status, **extra
    )


def _uses(connection, key="docs"):
    return action(key, "set_variables", parameters={"variables": {}}, connection=str(connection.pk))


@pytest.fixture
def checks():
    """An app whose action contributes one warning and, on demand, one blocking issue."""

    def hook(*, node, organization, trigger_data, language):
        issues = [
            {
                "code": "delivery.slow_provider",
                "severity": "warning",
                "domain": "delivery",
                "node_key": node["key"],
                "message_human": "Delivery may be slow.",
                "details_tech": {},
            }
        ]
        if not trigger_data.get("folder"):
            issues.append(
                {
                    "code": "template.not_found",
                    "severity": "blocking",
                    "domain": "template",
                    "node_key": node["key"],
                    "message_human": "The template is missing.",
                    "details_tech": {},
                }
            )
        return issues

    app = App(slug="checks", name="Checks")
    app.action(Operation(name="deliver", label="Deliver", handler=lambda ctx, params: ActionResult(), preflight=hook))
    registry.register(app)
    yield app
    registry._APPS.pop("checks", None)


def test_a_clean_definition_passes_with_every_domain_grouped(cast):
    report = _check(
        cast, action("x", "set_variables", parameters={"variables": {"a": "{{ trigger.a }}"}}), trigger_data={"a": 1}
    )
    assert report["ok"] is True
    assert (report["blocking"], report["warnings"], report["recommended_actions"]) == ([], [], [])
    assert report["groups"] == {domain: [] for domain in DOMAINS}
    assert DOMAINS == ("data", "template", "permissions", "delivery", "signature")


def test_unresolved_variables_block_naming_each_missing_path_with_location(cast):
    report = _check(
        cast,
        action(
            "prepare",
            "set_variables",
            parameters={"variables": {"to": "{{ trigger.customer.email }}", "id": "{{ trigger.deal.id }}"}},
        ),
        trigger_data={"customer": {"name": "Ana"}},
    )
    [issue] = report["blocking"]
    assert (issue["code"], issue["severity"], issue["domain"], issue["node_key"]) == (
        "data.unresolved_variables",
        "blocking",
        "data",
        "prepare",
    )
    assert issue["missing"] == ["trigger.customer.email", "trigger.deal.id"]
    assert "trigger.customer.email" in issue["message_human"]
    assert issue["location"] == {"node_key": "prepare", "parameters": ["variables.to", "variables.id"]}
    assert report["groups"]["data"] == [issue]
    assert [(a["action"], a["node_key"]) for a in report["recommended_actions"]] == [("map_fields", "prepare")]


def test_issue_messages_follow_the_organization_language(cast):
    cast.acme.language = "pt-br"
    cast.acme.save()
    report = _check(cast, action("p", "set_variables", parameters={"variables": {"to": "{{ trigger.email }}"}}))
    assert report["blocking"][0]["message_human"].startswith("Alguns campos")


def test_a_default_filter_covers_a_missing_field(cast):
    node = action("p", "set_variables", parameters={"variables": {"to": "{{ trigger.email | default('x') }}"}})
    assert _check(cast, node)["ok"] is True


def test_outputs_of_earlier_steps_are_not_judged_before_the_run(cast):
    node = action("p", "set_variables", parameters={"variables": {"a": "{{ steps.earlier.value | upper }}"}})
    assert _check(cast, node)["ok"] is True


def test_a_statement_that_tests_for_a_missing_field_is_not_an_issue(cast):
    node = action(
        "p", "set_variables", parameters={"variables": {"v": "{% if trigger.vip is defined %}VIP{% endif %}"}}
    )
    assert _check(cast, node)["ok"] is True
    node = action("p", "set_variables", parameters={"variables": {"v": "{% if trigger.vip %}VIP{% endif %}"}})
    assert _check(cast, node)["blocking"][0]["missing"] == ["trigger.vip"]


def test_a_branch_condition_on_a_missing_field_is_reported(cast):
    report = _check(
        cast,
        action("route", "branch", branches=[{"when": "trigger.amount > 10", "next": "a"}]),
        action("a", "set_variables", parameters={"variables": {}}),
    )
    [issue] = report["blocking"]
    assert (issue["node_key"], issue["missing"]) == ("route", ["trigger.amount"])


def test_warnings_do_not_block_and_blocking_issues_do(cast, checks):
    node = action("send", "deliver", app="checks")
    report = _check(cast, node, trigger_data={"folder": "x"})
    assert report["ok"] is True
    assert [w["code"] for w in report["warnings"]] == ["delivery.slow_provider"]
    assert report["groups"]["delivery"] == report["warnings"]

    report = _check(cast, node)
    assert report["ok"] is False
    assert [b["code"] for b in report["blocking"]] == ["template.not_found"]
    assert [i["code"] for i in report["groups"]["template"]] == ["template.not_found"]
    assert [a["action"] for a in report["recommended_actions"]] == ["select_template"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (ConnectionStatus.EXPIRED, "oauth_expired"),
        (ConnectionStatus.REVOKED, "connection.inactive"),
        (ConnectionStatus.ERROR, "connection.inactive"),
    ],
)
def test_an_unusable_connection_blocks_and_recommends_reconnecting(cast, status, code):
    report = _check(cast, _uses(_connection(cast.acme, status)))
    [issue] = report["blocking"]
    assert (issue["code"], issue["domain"], issue["node_key"]) == (code, "permissions", "docs")
    assert report["groups"]["permissions"] == [issue]
    [recommended] = report["recommended_actions"]
    assert (recommended["action"], recommended["node_key"], recommended["code"]) == ("reconnect_provider", "docs", code)
    assert recommended["endpoint"] and recommended["label"] and recommended["description"]


def test_an_active_connection_whose_token_has_expired_is_oauth_expired(cast):
    connection = _connection(cast.acme, expires_at=timezone.now() - timedelta(minutes=1))
    [issue] = _check(cast, _uses(connection))["blocking"]
    assert issue["code"] == "oauth_expired"
    fresh = _connection(cast.acme, expires_at=timezone.now() + timedelta(hours=1))
    assert _check(cast, _uses(fresh))["ok"] is True


def test_a_deleted_or_foreign_connection_is_inactive(cast):
    foreign = _connection(cast.globex)
    [issue] = _check(cast, _uses(foreign))["blocking"]
    assert (issue["code"], issue["details_tech"]) == ("connection.inactive", {"connection": str(foreign.pk)})
    node = _uses(foreign)
    foreign.delete()
    [issue] = _check(cast, node)["blocking"]
    assert (issue["code"], issue["message_human"]) == (
        "connection.inactive",
        "The connection used by step 'docs' is not active: deleted",
    )


def test_one_recommended_action_per_action_and_node(cast):
    connection = _connection(cast.acme, ConnectionStatus.EXPIRED)
    report = _check(
        cast,
        _uses(connection, "one"),
        _uses(connection, "two"),
        action("p", "set_variables", parameters={"variables": {"a": "{{ trigger.a }}", "b": "{{ trigger.b }}"}}),
    )
    assert [(a["action"], a["node_key"]) for a in report["recommended_actions"]] == [
        ("reconnect_provider", "one"),
        ("reconnect_provider", "two"),
        ("map_fields", "p"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_with_an_expired_connection_stops_in_needs_review(cast, worker):
    connection = _connection(cast.acme, ConnectionStatus.EXPIRED)
    node = action("docs", "set_variables", parameters={"variables": {}}, connection=connection)
    workflow = active_workflow(cast, node)
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    review = wait_for_status(execution.pk, ExecutionStatus.NEEDS_REVIEW, ExecutionStatus.COMPLETED)
    assert review.status == ExecutionStatus.NEEDS_REVIEW
    assert review.last_error_code == "oauth_expired"
    assert [a["action"] for a in review.recommended_actions] == ["reconnect_provider"]
    assert review.recommended_actions[0]["endpoint"]
    assert review.preflight_summary["groups"]["permissions"][0]["code"] == "oauth_expired"
    assert not review.steps.exists()


@pytest.mark.django_db(transaction=True)
def test_a_crashing_check_fails_the_run_instead_of_leaving_it_queued(cast, worker, checks, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the check itself is broken")

    operation = checks.actions["deliver"]
    monkeypatch.setitem(checks.actions, "deliver", dataclasses.replace(operation, preflight=broken))
    workflow = active_workflow(cast, action("send", "deliver", app="checks"))
    execution = execution_start(workflow=workflow, trigger_data={"folder": "x"}, by=cast.alice)
    failed = wait_for_status(execution.pk, ExecutionStatus.FAILED, ExecutionStatus.COMPLETED)
    assert (failed.status, failed.last_error_code) == (ExecutionStatus.FAILED, "internal")
    assert failed.last_error_human == "Step 'preflight' failed unexpectedly. The technical details say why."
    assert failed.last_error_tech["message"] == "the check itself is broken"
    assert not failed.steps.exists()


def test_the_trigger_contributes_its_own_checks_and_its_connection(cast):
    expired = DataSourceConnection.objects.create(
        organization=cast.acme, provider="hubspot", name="HubSpot", status=ConnectionStatus.EXPIRED
    )
    trigger = {
        "key": "start",
        "kind": "trigger",
        "app": "hubspot",
        "operation": "deal_event",
        "connection": str(expired.pk),
    }
    step = action("p", "set_variables", parameters={"variables": {"a": "{{ trigger.deal.id }}"}})
    report = preflight_check(organization=cast.acme, nodes=[trigger, step], trigger_data={"deal": {"id": "1"}})
    assert [(i["code"], i["node_key"]) for i in report["blocking"]] == [("oauth_expired", "start")]

    unread = {"event": {"object_id": 7}, "enrichment_error": {"code": "oauth_expired", "message_human": "401"}}
    report = preflight_check(organization=cast.acme, nodes=[trigger, step], trigger_data=unread)
    # One issue (the trigger's own, which explains the expired connection), and no map_fields for the deal's fields.
    [issue] = report["blocking"]
    assert (issue["code"], issue["node_key"]) == ("oauth_expired", "start")
    assert "could not read deal 7" in issue["message_human"]
    assert [a["action"] for a in report["recommended_actions"]] == ["reconnect_provider"]


def test_preflight_blocks_an_expression_jinja_cannot_read(cast):
    """A version frozen before save checked expressions still gets caught before the run fails."""
    report = _check(cast, action("vars", "set_variables", parameters={"variables": {"total": "{{ unclosed"}}))
    assert not report["ok"]
    [issue] = report["blocking"]
    assert (issue["code"], issue["domain"], issue["node_key"]) == ("expression.invalid", "data", "vars")
    assert issue["location"] == {"node_key": "vars", "parameters": ["variables.total"]}
    assert "variables.total" in issue["message_human"]
