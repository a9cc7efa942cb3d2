"""End to end through the engine and a real worker: trigger → google_docs.fill_document → gmail.send."""

import pytest

from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import TRIGGER, action, active_workflow
from docg.providers.google.tests.fake import ERRORS
from docg.providers.google.tests.helpers import DOC_TEMPLATE, FOLDER, add_templates, google_connection
from tests.fixtures.engine import wait_for_status


def _nodes(connection, to="{{ trigger.email }}"):
    fill = action(
        "fill",
        "fill_document",
        app="google_docs",
        connection=connection,
        parameters={
            "template_file_id": DOC_TEMPLATE,
            "folder_id": FOLDER,
            "name": "Contract {{ trigger.number }}",
            "replacements": {"name": "{{ trigger.customer }}", "total": "{{ trigger.total }}"},
        },
    )
    mail = action(
        "mail",
        "send",
        app="gmail",
        connection=connection,
        parameters={
            "to": to,
            "subject": "Contract {{ trigger.number }}",
            "body": "Hello {{ trigger.customer }}, your contract is attached.",
            "attachments": ["{{ steps.fill.document_id }}"],
        },
    )
    return fill, mail


TRIGGER_DATA = {"customer": "Ana Souza", "email": "ana@client.example", "number": "2026-7", "total": "R$ 1.200,00"}


@pytest.mark.django_db(transaction=True)
def test_a_run_fills_the_google_doc_and_mails_the_pdf(cast, worker, google_api, settings):
    settings.STEP_RETRY_BASE_SECONDS = 0.05
    add_templates(google_api)
    connection = google_connection(cast)
    workflow = active_workflow(cast, *_nodes(connection))
    # One transient failure on the way: the step is retried and still makes a single copy.
    google_api.fail_next("/export", 503, ERRORS[503])
    execution = execution_start(workflow=workflow, trigger_data=TRIGGER_DATA, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=30)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    assert google_api.violations == []

    document = GeneratedDocument.objects.get(execution=done)
    assert document.organization == cast.acme and document.name == "Contract 2026-7.pdf"
    assert len(google_api.calls("POST", r"/drive/v3/files/.+/copy")) == 1
    fill_steps = done.steps.filter(node_key="fill").order_by("attempt")
    assert [s.status for s in fill_steps] == ["failure", "success"]
    assert fill_steps[0].error_code == "google.unavailable"

    [sent] = google_api.sent
    message = sent["message"]
    assert message["To"] == "ana@client.example" and message["Subject"] == "Contract 2026-7"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "Contract 2026-7.pdf"
    assert b"Contract for Ana Souza, total R$ 1.200,00." in attachment.get_content()
    assert done.steps.get(node_key="mail").data_out["attachments"] == [
        {"document_id": str(document.pk), "name": document.name}
    ]
    correlation = {r.headers["x-correlation-id"] for r in google_api.requests}
    assert correlation == {str(done.correlation_id)}


@pytest.mark.django_db
def test_preflight_blocks_bad_recipients_missing_ids_and_expired_connections(cast):
    connection = google_connection(cast)
    fill, mail = _nodes(connection, to="{{ trigger.email }}, nobody@")
    fill["parameters"]["folder_id"] = "{{ trigger.folder }}"
    nodes = [TRIGGER, fill, mail]
    for node in nodes[1:]:
        node["connection"] = str(connection.pk)
    report = preflight_check(organization=cast.acme, nodes=nodes, trigger_data={**TRIGGER_DATA, "folder": ""})
    codes = {(i["code"], i["node_key"]) for i in report["blocking"]}
    assert codes == {("delivery.invalid_email", "mail"), ("delivery.folder_missing", "fill")}

    connection.status = "expired"
    connection.save(update_fields=["status"])
    _, mail = _nodes(connection)
    mail["connection"] = str(connection.pk)
    report = preflight_check(organization=cast.acme, nodes=[TRIGGER, mail], trigger_data=TRIGGER_DATA)
    assert [i["code"] for i in report["blocking"]] == ["oauth_expired"]
    assert report["recommended_actions"][0]["action"] == "reconnect_provider"

    _, mail = _nodes(None)
    report = preflight_check(organization=cast.acme, nodes=[TRIGGER, mail], trigger_data=TRIGGER_DATA)
    assert [i["code"] for i in report["blocking"]] == ["connection.inactive"]
