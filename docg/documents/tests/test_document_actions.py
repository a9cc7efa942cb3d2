"""docx.render / pptx.render through the engine, on a real Dramatiq worker, and their preflight."""

import io

import docx
import pytest
from pptx import Presentation

from docg.audit.models import AuditEvent
from docg.connectors.runtime import ActionContext
from docg.documents.models import GeneratedDocument
from docg.documents.rendering.preflight import render_preflight
from docg.documents.rendering.samples import contract_data, contract_docx, deck_data, deck_pptx
from docg.documents.tests.render_helpers import stored_template, text_of, xml_parts
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.conftest import action, active_workflow
from docg.providers.template_render import render_handler
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED, ExecutionStatus.NEEDS_REVIEW)


def _render_node(template, app="docx", **parameters):
    return action(
        "contract", "render", app=app, label="Contrato", parameters={"template_id": str(template.pk), **parameters}
    )


def _events(execution) -> list[dict]:
    return [event for _, event in get_streams().read(execution_key(execution.pk))]


def _run(cast, *nodes, data, **kwargs):
    workflow = active_workflow(cast, *nodes)
    execution = execution_start(workflow=workflow, trigger_data=data, by=cast.alice, **kwargs)
    return wait_for_status(execution.pk, *DONE, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_webhook_to_docx_render_ends_completed_through_ready(cast, worker):
    template = stored_template(cast.acme, "docx", contract_docx())
    node = _render_node(template, filename="Contrato {{ trigger.contract.number }}")
    done = _run(cast, node, data=contract_data())
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_tech)

    document = GeneratedDocument.objects.get(execution=done)
    assert document.organization_id == cast.acme.pk and document.template_id == template.pk
    assert document.name == "Contrato 2026-0042.docx" and document.node_key == "contract"
    with document.file.open("rb") as handle:
        body = text_of(xml_parts(handle.read(), r"word/document\.xml")["word/document.xml"])
    assert "R$ 12.345,50" in body and "24/11/2026" in body

    step = done.steps.get(node_key="contract")
    assert step.status == StepStatus.SUCCESS
    assert step.data_out["document_id"] == str(document.pk)
    assert step.data_out["size_bytes"] == document.size_bytes > 0
    assert step.data_out["content_type"].endswith("wordprocessingml.document")
    render = done.phase_metrics["render"]
    assert render["duration_ms"] is not None and render["completed_at"]

    events = _events(done)
    statuses = [e["status"] for e in events]
    assert "ready" in statuses and statuses.index("ready") < len(statuses) - 1
    assert statuses[-1] == "completed"
    carrying = {e["event_type"] for e in events if e["data"].get("document_id") == str(document.pk)}
    assert "step.completed" in carrying

    actions = set(AuditEvent.objects.filter(target_id=str(document.pk)).values_list("action", flat=True))
    assert actions == {"document.generated", "document.saved"}
    generated = AuditEvent.objects.get(target_id=str(document.pk), action="document.generated")
    assert generated.event_metadata["correlation_id"] == str(done.correlation_id)

    link = api_client_for(cast.alice).get(f"/api/v1/documents/{document.pk}/download").json()
    downloaded = api_client_for().get(link["url"])
    assert downloaded.status_code == 200
    docx.Document(io.BytesIO(b"".join(downloaded.streaming_content)))  # opens
    assert api_client_for(cast.charlie).get(f"/api/v1/documents/{document.pk}/download").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_pptx_render_with_data_from_an_expression(cast, worker):
    template = stored_template(cast.acme, "pptx", deck_pptx(), name="Proposta")
    done = _run(cast, _render_node(template, app="pptx", data="{{ trigger.deal }}"), data={"deal": deck_data()})
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_tech)
    document = GeneratedDocument.objects.get(execution=done)
    assert document.name == "Proposta.pptx"
    with document.file.open("rb") as handle:
        assert len(Presentation(io.BytesIO(handle.read())).slides) == 5


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_renders_and_stores_the_document(cast, worker):
    template = stored_template(cast.acme, "docx", contract_docx())
    done = _run(cast, _render_node(template), data=contract_data(), dry_run=True)
    assert done.status == ExecutionStatus.COMPLETED
    assert done.steps.get(node_key="contract").data_out["dry_run"] is True
    assert GeneratedDocument.objects.filter(execution=done).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_template_reaching_python_internals_fails_the_step_and_the_worker_stays_up(cast, worker):
    hostile = stored_template(cast.acme, "docx", _paragraph("{{ ''.__class__.__mro__[1].__subclasses__() }}"))
    failed = _run(cast, _render_node(hostile), data={})
    assert failed.status == ExecutionStatus.FAILED
    assert failed.last_error_code == "template.forbidden"
    assert "tries to reach something templates may not use" in failed.last_error_human
    assert not GeneratedDocument.objects.filter(execution=failed).exists()
    # The same worker goes on with the next run.
    template = stored_template(cast.acme, "docx", contract_docx())
    assert _run(cast, _render_node(template), data=contract_data()).status == ExecutionStatus.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_missing_data_stops_the_run_in_preflight_with_each_location(cast, worker):
    template = stored_template(cast.acme, "docx", contract_docx())
    data = contract_data()
    del data["due_date"], data["customer"]["email"]
    review = _run(cast, _render_node(template), data=data)
    assert review.status == ExecutionStatus.NEEDS_REVIEW
    [issue] = [i for i in review.preflight_summary["blocking"] if i["code"] == "data.unresolved_variables"]
    assert issue["domain"] == "data" and issue["node_key"] == "contract"
    assert issue["missing"] == ["customer.email", "due_date"]
    places = {(p["name"], p["location"]["part"]) for p in issue["location"]["placeholders"]}
    assert places == {("customer.email", "body"), ("customer.email", "footer1"), ("due_date", "body")}
    assert any("{{ customer.email }}" in p["location"]["text"] for p in issue["location"]["placeholders"])
    assert "map_fields" in [a["action"] for a in review.recommended_actions]
    assert not GeneratedDocument.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_another_organizations_template_is_not_found_in_preflight(cast, worker):
    theirs = stored_template(cast.globex, "docx", contract_docx())
    review = _run(cast, _render_node(theirs), data=contract_data())
    assert review.status == ExecutionStatus.NEEDS_REVIEW
    [issue] = review.preflight_summary["blocking"]
    assert issue["code"] == "template.not_found" and issue["domain"] == "template"
    assert [a["action"] for a in review.recommended_actions] == ["select_template"]


# --- the handler and the hook on their own ------------------------------------------------


def _paragraph(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _context(cast, node, execution=None, trigger=None) -> ActionContext:
    return ActionContext(
        execution=execution,
        step=None,
        node=node,
        organization=cast.acme,
        dry_run=False,
        idempotency_key="k",
        correlation_id="c",
        language="pt-br",
        expression_context={"trigger": trigger or {}},
    )


@pytest.mark.django_db
def test_a_pptx_template_is_refused_by_docx_render(cast):
    deck = stored_template(cast.acme, "pptx", deck_pptx())
    node = {"key": "contract", "label": "Contrato"}
    with pytest.raises(Exception) as caught:
        render_handler("docx")(_context(cast, node), {"template_id": str(deck.pk)})
    assert caught.value.code == "template.wrong_kind"
    assert caught.value.human == "A etapa 'Contrato' precisa de um modelo Word."


@pytest.mark.django_db
def test_a_redelivered_step_reuses_the_document_it_stored(cast):
    from docg.executions.models import WorkflowExecution

    workflow = active_workflow(cast, action("contract", "render", app="docx", parameters={"template_id": "x"}))
    execution = WorkflowExecution.objects.create(
        organization=cast.acme, workflow=workflow, workflow_version=workflow.versions.first(), trigger_data={}
    )
    template = stored_template(cast.acme, "docx", _paragraph("Olá {{ name }}"))
    ctx = _context(cast, {"key": "contract"}, execution=execution, trigger={"name": "Ana"})
    first = render_handler("docx")(ctx, {"template_id": str(template.pk)})
    again = render_handler("docx")(ctx, {"template_id": str(template.pk)})
    assert first.status == again.status == "ready"
    assert again.output["document_id"] == first.output["document_id"] and again.output["reused"] is True
    assert GeneratedDocument.objects.filter(execution=execution).count() == 1


@pytest.mark.django_db
def test_preflight_optional_inputs_and_unknown_data_do_not_block(cast):
    template = stored_template(
        cast.acme, "docx", _paragraph("{{ a|default('-') }} {% if b is defined %}{{ b.c }}{% endif %}")
    )
    hook = render_preflight("docx")
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    assert hook(node=node, organization=cast.acme, trigger_data={}, language="en") == []
    from_steps = {"key": "r", "parameters": {"template_id": str(template.pk), "data": "{{ steps.fetch.deal }}"}}
    assert hook(node=from_steps, organization=cast.acme, trigger_data={}, language="en") == []


@pytest.mark.django_db
def test_preflight_reports_the_templates_lint_errors(cast):
    template = stored_template(cast.acme, "docx", _paragraph("{{ name }}"))
    template.lint_errors = [
        {"code": "template.malformed_tag", "message": "x", "location": {"part": "body", "paragraph": 0}, "tag": "{{"}
    ]
    template.save()
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    issues = render_preflight("docx")(node=node, organization=cast.acme, trigger_data={"name": "A"}, language="en")
    assert [(i["code"], i["domain"]) for i in issues] == [("template.malformed_tag", "template")]


@pytest.mark.django_db
def test_preflight_uses_the_locations_found_at_upload(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from docg.documents.services import template_create

    upload = SimpleUploadedFile("contrato.docx", contract_docx())
    template = template_create(organization=cast.acme, by=cast.alice, name="Contrato", upload=upload)
    assert template.variables  # analysed at upload
    data = contract_data()
    del data["due_date"]
    node = {"key": "r", "parameters": {"template_id": str(template.pk)}}
    [issue] = render_preflight("docx")(node=node, organization=cast.acme, trigger_data=data, language="pt-br")
    assert issue["code"] == "data.unresolved_variables" and issue["missing"] == ["due_date"]
    assert issue["message_human"].startswith("Alguns campos de que o modelo da etapa 'r' precisa")
    [place] = issue["location"]["placeholders"]
    assert place["location"]["part"] == "body"
    assert "Vencimento: {{ due_date" in place["location"]["text"]
