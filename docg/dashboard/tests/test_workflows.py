"""The dashboard's workflows area: the list, the editor's save/activate endpoints, roles and tenancy."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from docg.dashboard.views.workflows import editor_problem
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db

THREE_NODES = [
    {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
    {
        "key": "prepare",
        "kind": "action",
        "app": "core",
        "operation": "set_variables",
        "label": "Prepare the data",
        "parameters": {"variables": {"customer": "{{ trigger.customer }}"}},
    },
    {
        "key": "remember",
        "kind": "action",
        "app": "core",
        "operation": "datastore_set",
        "parameters": {"key": "last_customer", "value": "{{ steps.prepare.customer }}"},
    },
]


def post_json(client, url, body=None, **extra):
    return client.post(
        url,
        data=json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_ACCEPT="application/json",
        **extra,
    )


@pytest.fixture
def acme_flow(cast):
    return workflow_create(organization=cast.acme, by=cast.alice, name="Acme contract", nodes=linear_nodes())


def make_run(workflow, status, minutes_ago=0):
    version = workflow.active_version or workflow_activate(workflow=workflow, by=None)
    run = WorkflowExecution.objects.create(
        organization_id=workflow.organization_id, workflow=workflow, workflow_version=version, status=status
    )
    WorkflowExecution.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    workflow.refresh_from_db()
    return run


def test_list_shows_status_last_run_and_success_rate(client, cast, acme_flow):
    for minutes, status in ((40, "completed"), (30, "completed"), (20, "failed"), (10, "completed")):
        make_run(acme_flow, status, minutes_ago=minutes)
    newest = make_run(acme_flow, ExecutionStatus.CANCELED, minutes_ago=1)
    client.force_login(cast.alice)
    page = client.get("/").content.decode()
    assert "Acme contract" in page
    assert 'class="badge active"' in page
    assert f"/executions/{newest.pk}/" in page
    assert "Canceled" in page
    # 3 of the 4 finished runs completed; the canceled one is not counted.
    assert "75 %" in page
    assert f'href="/workflows/{acme_flow.pk}/run/"' in page
    assert "New workflow" in page


def test_list_says_never_run_for_a_fresh_workflow(client, cast, acme_flow):
    client.force_login(cast.alice)
    page = client.get("/").content.decode()
    assert "Never run" in page
    assert "/run/" not in page  # a draft cannot run yet


def test_new_workflow_is_created_from_the_editor(client, cast):
    client.force_login(cast.bob)
    assert client.get("/workflows/new/").status_code == 200
    response = post_json(client, "/workflows/new/", {"name": "Onboarding", "description": "", "nodes": THREE_NODES})
    assert response.status_code == 201
    workflow = Workflow.objects.get(pk=response.json()["id"])
    assert response.json()["url"] == f"/workflows/{workflow.pk}/"
    assert workflow.organization == cast.acme
    assert [n.key for n in workflow.nodes.order_by("order")] == ["start", "prepare", "remember"]
    assert workflow.status == WorkflowStatus.DRAFT


def test_saving_replaces_the_steps(client, cast, acme_flow):
    client.force_login(cast.alice)
    response = post_json(client, f"/workflows/{acme_flow.pk}/", {"name": "Renamed", "nodes": THREE_NODES})
    assert response.status_code == 200
    acme_flow.refresh_from_db()
    assert acme_flow.name == "Renamed"
    assert acme_flow.nodes.count() == 3
    assert acme_flow.nodes.get(key="prepare").label == "Prepare the data"


def test_editor_page_carries_the_graph_and_the_registry(client, cast, acme_flow):
    client.force_login(cast.alice)
    response = client.get(f"/workflows/{acme_flow.pk}/")
    assert response.status_code == 200
    data = json.loads(
        response.content.decode().split('id="wf-editor-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [n["key"] for n in data["workflow"]["nodes"]] == ["start", "prepare"]
    core = next(a for a in data["apps"] if a["slug"] == "core")
    assert "set_variables" in [op["name"] for op in core["actions"]]
    assert data["canWrite"] is True


def test_activate_and_deactivate(client, cast, acme_flow):
    client.force_login(cast.alice)
    response = post_json(client, f"/workflows/{acme_flow.pk}/activate/")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    acme_flow.refresh_from_db()
    assert acme_flow.status == WorkflowStatus.ACTIVE
    page = client.get(f"/workflows/{acme_flow.pk}/").content.decode()
    assert "Workflow activated" in page
    assert 'data-version="1"' in page
    assert "Running now" in page

    response = client.post(f"/workflows/{acme_flow.pk}/deactivate/")
    assert response.status_code == 302
    acme_flow.refresh_from_db()
    assert acme_flow.status == WorkflowStatus.INACTIVE


def test_activation_problems_point_at_the_step_and_field(client, cast):
    nodes = [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        {"key": "wait", "kind": "action", "app": "core", "operation": "delay", "parameters": {"seconds": "soon"}},
        {"key": "stop", "kind": "action", "app": "core", "operation": "fail", "parameters": {}},
    ]
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Broken", nodes=nodes)
    client.force_login(cast.alice)
    response = post_json(client, f"/workflows/{workflow.pk}/activate/")
    assert response.status_code == 400
    assert response.json()["message"] == "This workflow cannot be activated yet."
    problems = {(p["node_key"], p["field"], p["message"]) for p in response.json()["problems"]}
    assert ("wait", "parameters.seconds", "Enter a whole number.") in problems
    assert ("stop", "parameters.code", "This field is required.") in problems
    workflow.refresh_from_db()
    assert workflow.status == WorkflowStatus.DRAFT


def test_save_problems_point_at_the_step_and_field(client, cast, acme_flow):
    client.force_login(cast.alice)
    nodes = [*linear_nodes(), {"key": "bad key!", "kind": "action", "app": "core", "operation": "fail"}]
    response = post_json(client, f"/workflows/{acme_flow.pk}/", {"name": "", "nodes": nodes})
    assert response.status_code == 400
    problems = {(p["node_key"], p["field"]) for p in response.json()["problems"]}
    assert ("bad key!", "key") in problems
    assert ("", "name") in problems

    duplicate = [*linear_nodes(), {**linear_nodes()[1]}]
    response = post_json(client, f"/workflows/{acme_flow.pk}/", {"nodes": duplicate})
    assert response.status_code == 400
    assert {"node_key": "prepare", "field": "key"}.items() <= response.json()["problems"][0].items()
    assert acme_flow.nodes.count() == 2  # nothing was saved


def test_a_branch_pointing_nowhere_is_reported_on_its_branches(client, cast, acme_flow):
    client.force_login(cast.alice)
    branch = {
        "key": "route",
        "kind": "action",
        "app": "core",
        "operation": "branch",
        "branches": [{"when": "{{ trigger.vip }}", "next": "nowhere"}],
    }
    response = post_json(client, f"/workflows/{acme_flow.pk}/", {"nodes": [*linear_nodes(), branch]})
    assert response.status_code == 400
    assert ("route", "branches") in {(p["node_key"], p["field"]) for p in response.json()["problems"]}


def test_bad_json_is_a_clear_400(client, cast, acme_flow):
    client.force_login(cast.alice)
    for body in ("{not json", "[1, 2]"):
        response = client.post(
            f"/workflows/{acme_flow.pk}/", data=body, content_type="application/json", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400
        assert response.json()["message"]


def test_problem_fields_are_made_precise():
    def field(message):
        return editor_problem({"node_key": "n", "field": "parameters", "code": "x", "message": message})["field"]

    assert field("parameters: 'url' is a required property") == "parameters.url"
    assert field("timeout: 'x' is not of type 'number'") == "parameters.timeout"
    assert field("headers.X-Token: 1 is not of type 'string'") == "parameters.headers"
    assert field("parameters: Additional properties are not allowed") == "parameters"

    def words(message):
        return editor_problem({"node_key": "n", "field": "parameters", "code": "x", "message": message})["message"]

    assert words("seconds: 0 is less than the minimum of 1") == "Must be at least 1."
    assert words("method: 'FETCH' is not one of ['GET', 'POST']") == "Choose one of the options."
    assert words("parameters: Additional properties are not allowed ('colour' was unexpected)") == (
        "Not a setting of this step: 'colour'."
    )
    assert words("body: something unusual") == "something unusual"


def test_viewer_sees_the_graph_read_only_and_cannot_write(client, cast, acme_flow):
    client.force_login(cast.vera)
    page = client.get("/").content.decode()
    assert "Acme contract" in page
    for write_word in ("New workflow", ">Edit<", "/run/"):
        assert write_word not in page
    page = client.get(f"/workflows/{acme_flow.pk}/").content.decode()
    assert "Set variables" in page  # the steps, server-rendered
    assert 'data-action="save"' not in page
    assert 'data-action="activate"' not in page
    assert '"canWrite": false' in page

    assert client.get("/workflows/new/").status_code == 404
    assert post_json(client, "/workflows/new/", {"name": "x", "nodes": THREE_NODES}).status_code == 404
    assert post_json(client, f"/workflows/{acme_flow.pk}/", {"name": "Hacked"}).status_code == 404
    assert post_json(client, f"/workflows/{acme_flow.pk}/activate/").status_code == 404
    assert client.post(f"/workflows/{acme_flow.pk}/deactivate/").status_code == 404
    acme_flow.refresh_from_db()
    assert (acme_flow.name, acme_flow.status) == ("Acme contract", WorkflowStatus.DRAFT)
    assert not Workflow.objects.filter(name="x").exists()


def test_another_organizations_workflow_is_a_404(client, cast, acme_flow):
    client.force_login(cast.charlie)
    assert "Acme contract" not in client.get("/").content.decode()
    assert client.get(f"/workflows/{acme_flow.pk}/").status_code == 404
    assert post_json(client, f"/workflows/{acme_flow.pk}/", {"name": "Mine now"}).status_code == 404
    assert post_json(client, f"/workflows/{acme_flow.pk}/activate/").status_code == 404
    assert client.post(f"/workflows/{acme_flow.pk}/deactivate/").status_code == 404
    acme_flow.refresh_from_db()
    assert acme_flow.name == "Acme contract"


def test_another_organizations_connection_is_refused_on_the_connection_field(client, cast, acme_flow):
    from docg.connectors.models import DataSourceConnection

    theirs = DataSourceConnection.objects.create(organization=cast.globex, provider="smtp", name="Globex mail")
    mail = {
        "key": "mail",
        "kind": "action",
        "app": "smtp",
        "operation": "send_email",
        "parameters": {"to": "a@example.com", "subject": "Hi", "body": "Hello"},
        "connection": str(theirs.pk),
    }
    client.force_login(cast.alice)
    response = post_json(client, f"/workflows/{acme_flow.pk}/", {"nodes": [*linear_nodes(), mail]})
    assert response.status_code == 400
    assert ("mail", "connection") in {(p["node_key"], p["field"]) for p in response.json()["problems"]}
