"""The run form: trigger data validated inline, options, a preflight check that sends nothing, and the start."""

import pytest
from django.utils.html import escape

from docg.dashboard.views.runs import action_links
from docg.executions.models import WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(cast):
    return active_workflow(cast, PREPARE, name="Contract")


def run_url(workflow) -> str:
    return f"/workflows/{workflow.pk}/run/"


def test_it_shows_the_form_with_the_fields_the_workflow_reads(client, cast, workflow):
    client.force_login(cast.alice)
    page = client.get(run_url(workflow)).content.decode()
    assert "Trigger data (JSON)" in page
    assert "&quot;customer&quot;: &quot;&quot;" in page  # the skeleton built from {{ trigger.customer }}
    assert "Check first" in page and "Start run" in page
    assert 'name="until_phase"' in page and 'name="dry_run"' in page


def test_it_starts_a_run_and_opens_its_live_page(client, cast, workflow):
    client.force_login(cast.bob)
    response = client.post(
        run_url(workflow),
        {"trigger_data": '{"customer": "Ana"}', "dry_run": "on", "until_phase": "render", "action": "start"},
    )
    execution = WorkflowExecution.objects.get(workflow=workflow)
    assert response.status_code == 302
    assert response["Location"] == f"/executions/{execution.pk}/"
    assert execution.trigger_data == {"customer": "Ana"}
    assert execution.dry_run is True
    assert execution.until_phase == "render"
    assert execution.triggered_by == cast.bob


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"customer": "Ana",}', "This is not valid JSON (line 1, column 20)"),
        ('["Ana"]', "must be a JSON object"),
        ("42", "must be a JSON object"),
    ],
)
def test_bad_trigger_data_gets_an_inline_error_and_starts_nothing(client, cast, workflow, text, message):
    client.force_login(cast.alice)
    response = client.post(run_url(workflow), {"trigger_data": text, "action": "start"})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    assert escape(text) in page  # what she typed is kept
    assert not WorkflowExecution.objects.exists()


def test_an_unknown_until_phase_is_refused(client, cast, workflow):
    client.force_login(cast.alice)
    response = client.post(run_url(workflow), {"trigger_data": "{}", "until_phase": "everything", "action": "start"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not WorkflowExecution.objects.exists()


def test_check_first_shows_blocking_problems_and_the_fix_without_starting(client, cast, workflow):
    client.force_login(cast.alice)
    response = client.post(run_url(workflow), {"trigger_data": "{}", "action": "check"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 problem must be fixed" in page
    assert 'data-issue="data.unresolved_variables"' in page
    assert "Some fields this workflow needs are missing from the data: trigger.customer" in page
    # The recommended action is a link that does the thing: back to the workflow editor to map fields.
    assert f'href="/workflows/{workflow.pk}/" data-action="map_fields"' in page
    assert 'data-domain="template"' in page and 'data-domain="signature"' in page
    assert not WorkflowExecution.objects.exists()


def test_check_first_says_so_when_everything_is_fine(client, cast, workflow):
    client.force_login(cast.alice)
    page = client.post(run_url(workflow), {"trigger_data": '{"customer": "Ana"}', "action": "check"}).content.decode()
    assert "All checks passed" in page
    assert not WorkflowExecution.objects.exists()


def test_recommended_actions_lead_to_the_page_that_fixes_them():
    actions = [
        {"action": "reconnect_provider", "node_key": "send"},
        {"action": "select_template", "node_key": "doc"},
        {"action": "map_fields", "node_key": "doc"},
        {"action": "fix_permissions", "node_key": "save"},
        {"action": "retry_later", "node_key": "send"},
    ]
    links = {a["action"]: a["url"] for a in action_links(actions, workflow_id="wf-1")}
    assert links == {
        "reconnect_provider": "/connections/",
        "select_template": "/templates/",
        "map_fields": "/workflows/wf-1/",
        "fix_permissions": "/connections/",
        "retry_later": "",
    }


def test_an_inactive_workflow_cannot_be_started(client, cast):
    draft = active_workflow(cast, PREPARE, name="Draft", activate=False)
    client.force_login(cast.alice)
    assert "not active yet" in client.get(run_url(draft)).content.decode()
    response = client.post(run_url(draft), {"trigger_data": "{}", "action": "start"})
    assert "not active yet" in response.content.decode()
    assert not WorkflowExecution.objects.exists()


def test_run_again_starts_from_an_earlier_runs_data(client, cast, workflow):
    client.force_login(cast.alice)
    client.post(run_url(workflow), {"trigger_data": '{"customer": "Bea"}', "action": "start"})
    earlier = WorkflowExecution.objects.get()
    page = client.get(f"{run_url(workflow)}?from={earlier.pk}").content.decode()
    assert "&quot;customer&quot;: &quot;Bea&quot;" in page
    assert client.get(f"{run_url(workflow)}?from=not-a-uuid").status_code == 200


def test_a_viewer_can_neither_see_the_form_nor_start_a_run(client, cast, workflow):
    client.force_login(cast.vera)
    assert client.get(run_url(workflow)).status_code == 404
    assert client.post(run_url(workflow), {"trigger_data": "{}", "action": "start"}).status_code == 404
    assert not WorkflowExecution.objects.exists()


def test_another_organizations_workflow_is_a_404(client, cast, workflow):
    client.force_login(cast.charlie)
    assert client.get(run_url(workflow)).status_code == 404
    assert client.post(run_url(workflow), {"trigger_data": "{}", "action": "start"}).status_code == 404
    assert not WorkflowExecution.objects.exists()


def test_the_form_is_prefilled_with_the_fields_the_templates_use_too(client, cast):
    import json
    from html import unescape

    from docg.documents.models import Template
    from docg.executions.tests.builders import action

    def template(name, *names):
        variables = [{"name": n, "locations": []} for n in names]
        return Template.objects.create(organization=cast.acme, name=name, kind="docx", variables=variables)

    contract = template("Contract", "customer.name", "total")
    receipt = template("Receipt", "number")
    nodes = [
        PREPARE,
        # No `data`: the template sees the trigger's data, so the form asks for what the template uses.
        action("contract", "render", app="docx", parameters={"template_id": str(contract.pk)}),
        # `data` is a trigger field: the template's fields are asked for inside it.
        action("receipt", "render", app="docx",
               parameters={"template_id": str(receipt.pk), "data": "{{ trigger.order }}"}),
    ]  # fmt: skip
    workflow = active_workflow(cast, *nodes, name="Contract")
    client.force_login(cast.alice)
    page = client.get(f"/workflows/{workflow.pk}/run/").content.decode()
    textarea = page.split("data-json-editor")[1].split(">", 1)[1].split("</textarea>")[0]
    assert json.loads(unescape(textarea)) == {
        "customer": {"name": ""},
        "total": "",
        "order": {"number": ""},
    }
