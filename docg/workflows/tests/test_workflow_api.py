import json

import pytest

from docg.audit.models import AuditEvent
from docg.connectors.services import connection_create
from docg.workflows.models import Workflow, WorkflowVersion
from docg.workflows.tests.factories import linear_nodes, workflow_body
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db


def _create(client, body=None):
    return client.post("/api/v1/workflows", body or workflow_body(), format="json")


def test_create_returns_201_with_nodes_in_order(alice_api, cast):
    response = _create(alice_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert [n["key"] for n in body["nodes"]] == ["start", "prepare"]
    assert body["nodes"][1]["parameters"] == {"variables": {"customer": "{{ trigger.customer }}"}}
    workflow = Workflow.objects.get(pk=body["id"])
    assert workflow.organization == cast.acme
    assert workflow.nodes.filter(organization=cast.acme).count() == 2


def test_list_is_paginated_and_filterable(alice_api, cast):
    for i in range(3):
        _create(alice_api, workflow_body(name=f"wf {i}"))
    response = alice_api.get("/api/v1/workflows?limit=2")
    assert response.status_code == 200
    page = response.json()
    assert len(page["results"]) == 2
    assert page["next"]
    rest = alice_api.get(page["next"]).json()
    assert len(rest["results"]) == 1
    assert alice_api.get("/api/v1/workflows?status=active").json()["results"] == []
    assert alice_api.get("/api/v1/workflows?status=bogus").status_code == 400


def test_activate_freezes_a_version_and_audits(alice_api, cast):
    workflow_id = _create(alice_api).json()["id"]
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/activate")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert response.json()["active_version"] == 1
    version = WorkflowVersion.objects.get(workflow_id=workflow_id)
    assert [n["key"] for n in version.definition["nodes"]] == ["start", "prepare"]
    assert AuditEvent.objects.filter(action="workflow.activated", target_id=workflow_id).count() == 1

    # Editing afterwards leaves the frozen version untouched until the next activation.
    alice_api.patch(f"/api/v1/workflows/{workflow_id}", {"nodes": linear_nodes()[:1]}, format="json")
    version.refresh_from_db()
    assert len(version.definition["nodes"]) == 2
    assert alice_api.post(f"/api/v1/workflows/{workflow_id}/activate").status_code == 400
    versions = alice_api.get(f"/api/v1/workflows/{workflow_id}/versions").json()["results"]
    assert [v["number"] for v in versions] == [1]


@pytest.mark.parametrize(
    ("nodes", "code"),
    [
        (linear_nodes()[1:], "trigger_count"),
        (
            [*linear_nodes(), {"key": "t2", "kind": "trigger", "app": "webhook", "operation": "catch_hook"}],
            "trigger_count",
        ),
        ([*linear_nodes(), {"key": "x", "kind": "action", "app": "nope", "operation": "x"}], "unknown_app"),
        ([*linear_nodes(), {"key": "x", "kind": "action", "app": "core", "operation": "nope"}], "unknown_operation"),
        (
            [*linear_nodes(), {"key": "wait", "kind": "action", "app": "core", "operation": "delay", "parameters": {}}],
            "invalid_parameters",
        ),
        (
            [
                *linear_nodes(),
                {
                    "key": "wait",
                    "kind": "action",
                    "app": "core",
                    "operation": "delay",
                    "parameters": {"seconds": "soon"},
                },
            ],
            "invalid_parameters",
        ),
        (
            [
                {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
                {
                    "key": "a",
                    "kind": "action",
                    "app": "core",
                    "operation": "set_variables",
                    "parameters": {"variables": {}},
                    "next": "b",
                },
                {
                    "key": "b",
                    "kind": "action",
                    "app": "core",
                    "operation": "set_variables",
                    "parameters": {"variables": {}},
                    "next": "a",
                },
            ],
            "cycle",
        ),
        (
            [
                {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
                {"key": "pick", "kind": "action", "app": "core", "operation": "branch", "branches": []},
            ],
            "branches_required",
        ),
    ],
)
def test_activation_refuses_invalid_graphs(alice_api, nodes, code):
    workflow_id = _create(alice_api, workflow_body(nodes=nodes)).json()["id"]
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/activate")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "workflow_invalid"
    assert code in [e["code"] for e in error["details"]["errors"]]
    assert not WorkflowVersion.objects.filter(workflow_id=workflow_id).exists()


def test_expressions_pass_schema_checks_until_runtime(alice_api):
    nodes = [
        *linear_nodes(),
        {
            "key": "wait",
            "kind": "action",
            "app": "core",
            "operation": "delay",
            "parameters": {"seconds": "{{ trigger.wait }}"},
        },
    ]
    workflow_id = _create(alice_api, workflow_body(nodes=nodes)).json()["id"]
    assert alice_api.post(f"/api/v1/workflows/{workflow_id}/activate").status_code == 200


def test_branch_workflow_activates(alice_api):
    nodes = [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        {
            "key": "pick",
            "kind": "action",
            "app": "core",
            "operation": "branch",
            "branches": [{"when": "{{ trigger.amount > 1000 }}", "next": "big"}],
            "else": "small",
        },
        {
            "key": "big",
            "kind": "action",
            "app": "core",
            "operation": "approval",
            "parameters": {"message": "Big deal"},
            "next": "small",
        },
        {
            "key": "small",
            "kind": "action",
            "app": "core",
            "operation": "set_variables",
            "parameters": {"variables": {}},
        },
    ]
    workflow_id = _create(alice_api, workflow_body(nodes=nodes)).json()["id"]
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/activate")
    assert response.status_code == 200, response.content
    assert response.json()["nodes"][1]["else"] == "small"


@pytest.mark.parametrize(
    "nodes",
    [
        [*linear_nodes(), {"key": "prepare", "kind": "action", "app": "core", "operation": "fail"}],
        [*linear_nodes()[:1], {**linear_nodes()[1], "next": "missing"}],
    ],
)
def test_create_refuses_duplicate_keys_and_missing_targets(alice_api, cast, nodes):
    response = _create(alice_api, workflow_body(nodes=nodes))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "workflow_invalid"
    assert not Workflow.objects.exists()


def test_node_connection_must_belong_to_the_organization(alice_api, cast):
    theirs = connection_create(organization=cast.globex, by=cast.charlie, provider="smtp", name="Globex mail")
    ours = connection_create(organization=cast.acme, by=cast.alice, provider="smtp", name="Acme mail")
    nodes = linear_nodes()
    nodes[1]["connection"] = str(theirs.pk)
    response = _create(alice_api, workflow_body(nodes=nodes))
    assert response.status_code == 400
    assert "connection" in str(response.json()["error"]["details"])
    assert not Workflow.objects.exists()
    nodes[1]["connection"] = str(ours.pk)
    response = _create(alice_api, workflow_body(nodes=nodes))
    assert response.status_code == 201
    assert response.json()["nodes"][1]["connection"] == str(ours.pk)


def test_viewer_reads_but_cannot_write(cast, alice_api, vera_api):
    workflow_id = _create(alice_api).json()["id"]
    assert vera_api.get(f"/api/v1/workflows/{workflow_id}").status_code == 200
    assert _create(vera_api).status_code == 403
    assert vera_api.patch(f"/api/v1/workflows/{workflow_id}", {"name": "x"}, format="json").status_code == 403
    assert vera_api.post(f"/api/v1/workflows/{workflow_id}/activate").status_code == 403
    assert vera_api.delete(f"/api/v1/workflows/{workflow_id}").status_code == 403
    assert Workflow.objects.get(pk=workflow_id).name == "Contract"


def test_member_cannot_delete_but_owner_can(cast, alice_api):
    workflow_id = _create(alice_api).json()["id"]
    assert api_client_for(cast.bob).delete(f"/api/v1/workflows/{workflow_id}").status_code == 403
    assert alice_api.delete(f"/api/v1/workflows/{workflow_id}").status_code == 204
    assert not Workflow.objects.filter(pk=workflow_id).exists()
    assert AuditEvent.objects.filter(action="workflow.deleted", target_id=workflow_id).exists()


def test_another_organization_gets_404(cast, alice_api, charlie_api):
    workflow_id = _create(alice_api).json()["id"]
    assert charlie_api.get(f"/api/v1/workflows/{workflow_id}").status_code == 404
    assert charlie_api.patch(f"/api/v1/workflows/{workflow_id}", {"name": "mine"}, format="json").status_code == 404
    assert charlie_api.post(f"/api/v1/workflows/{workflow_id}/activate").status_code == 404
    assert charlie_api.delete(f"/api/v1/workflows/{workflow_id}").status_code == 404
    assert charlie_api.get("/api/v1/workflows").json()["results"] == []
    assert Workflow.objects.get(pk=workflow_id).name == "Contract"


def test_deleting_a_workflow_with_runs_archives_it_and_keeps_its_runs(cast, alice_api):
    from docg.executions.engine import execution_start
    from docg.executions.models import WorkflowExecution
    from docg.workflows.services import workflow_activate

    workflow_id = _create(alice_api).json()["id"]
    workflow = Workflow.objects.get(pk=workflow_id)
    workflow_activate(workflow=workflow, by=cast.alice)
    execution = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)

    response = alice_api.delete(f"/api/v1/workflows/{workflow_id}")
    assert response.status_code == 204, response.content  # was a 500 (ProtectedError)
    workflow.refresh_from_db()
    assert workflow.archived_at is not None
    assert workflow.status == "inactive"
    assert WorkflowExecution.objects.filter(pk=execution.pk).exists()
    assert alice_api.get(f"/api/v1/executions/{execution.pk}").status_code == 200
    assert alice_api.get("/api/v1/workflows").json()["results"] == []
    archived = alice_api.get("/api/v1/workflows", {"archived": "true"}).json()["results"]
    assert [w["id"] for w in archived] == [workflow_id]
    assert alice_api.post(f"/api/v1/workflows/{workflow_id}/activate").status_code == 409
    assert alice_api.delete(f"/api/v1/workflows/{workflow_id}").status_code == 204  # again: still archived
    assert AuditEvent.objects.filter(
        action="workflow.deleted", target_id=workflow_id, event_metadata__archived=True
    ).exists()

    restored = alice_api.post(f"/api/v1/workflows/{workflow_id}/restore")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert [w["id"] for w in alice_api.get("/api/v1/workflows").json()["results"]] == [workflow_id]


def test_another_organization_cannot_restore(cast, alice_api, charlie_api):
    workflow_id = _create(alice_api).json()["id"]
    assert charlie_api.post(f"/api/v1/workflows/{workflow_id}/restore").status_code == 404


BROKEN = [
    ("{{ unclosed", "parameters.variables", "variables.total"),
    ("Total: {{ trigger.amount | no_such_filter }}", "parameters.variables", "variables.total"),
    ("{% if trigger.vip %}VIP", "parameters.variables", "variables.total"),
]


@pytest.mark.parametrize(("source", "field", "where"), BROKEN)
def test_save_refuses_an_expression_jinja_cannot_read_naming_node_and_field(alice_api, source, field, where):
    nodes = linear_nodes()
    nodes[1]["parameters"] = {"variables": {"customer": "{{ trigger.customer }}", "total": source}}
    response = _create(alice_api, workflow_body(nodes=nodes))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "workflow_invalid"
    assert "prepare" in error["message"] and where in error["message"]
    [problem] = error["details"]["errors"]
    assert (problem["node_key"], problem["field"], problem["code"]) == ("prepare", field, "invalid_expression")
    assert not Workflow.objects.exists()


def test_save_refuses_a_branch_condition_jinja_cannot_read(alice_api):
    nodes = [
        linear_nodes()[0],
        {"key": "pick", "kind": "action", "app": "core", "operation": "branch",
         "branches": [{"when": "trigger.amount >", "next": "done"}]},
        {"key": "done", "kind": "action", "app": "core", "operation": "set_variables", "parameters": {"variables": {}}},
    ]  # fmt: skip
    response = _create(alice_api, workflow_body(nodes=nodes))
    assert response.status_code == 400, response.content
    [problem] = response.json()["error"]["details"]["errors"]
    assert (problem["node_key"], problem["field"], problem["code"]) == ("pick", "branches", "invalid_expression")
    assert "branches[0].when" in problem["message"]


def test_activation_refuses_an_expression_saved_before_the_check(alice_api):
    workflow_id = _create(alice_api).json()["id"]
    Workflow.objects.get(pk=workflow_id).nodes.filter(key="prepare").update(
        parameters={"variables": {"customer": "{{ unclosed"}}
    )
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/activate")
    assert response.status_code == 400, response.content
    [problem] = response.json()["error"]["details"]["errors"]
    assert (problem["node_key"], problem["field"], problem["code"]) == (
        "prepare",
        "parameters.variables",
        "invalid_expression",
    )
    assert not WorkflowVersion.objects.filter(workflow_id=workflow_id).exists()


def test_a_non_finite_number_is_named_with_its_node_and_field(alice_api):
    body = json.dumps(workflow_body()).replace('"{{ trigger.customer }}"', "1e999")
    response = alice_api.post("/api/v1/workflows", body, content_type="application/json")
    assert response.status_code == 400, response.content
    # Refused while parsing, with the full path to the number.
    assert response.json()["error"]["message"] == (
        "nodes[1].parameters.variables.customer: Numbers must be finite (no NaN, Infinity, or values like 1e400)."
    )


def test_activation_names_the_unknown_app_of_the_only_node(alice_api):
    nodes = [{"key": "start", "kind": "trigger", "app": "nope", "operation": "catch_hook"}]
    workflow_id = _create(alice_api, workflow_body(nodes=nodes)).json()["id"]
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/activate")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "The workflow is not valid: node 'start': There is no app 'nope'."
    assert [e["code"] for e in error["details"]["errors"]] == ["unknown_app", "no_actions"]
