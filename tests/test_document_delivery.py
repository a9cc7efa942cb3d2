"""The full path on real services: trigger → docx.render → pdf.convert → smtp.send_email.

A .docx template built here is uploaded through the template service, filled
by docx.render, turned into a PDF by the warm LibreOffice pool, and mailed to
an SMTP server on loopback (aiosmtpd); the run's live events show its states.
"""

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.audit.choices import ActorType
from docg.audit.models import AuditEvent
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument
from docg.documents.services import template_create
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_for_status
from tests.fixtures.smtp import smtp_credentials

pytestmark = pytest.mark.django_db(transaction=True)


def _contract_template() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Service Agreement {{ contract.number }}", level=1)
    document.add_paragraph("Client: {{ customer.name }}")
    document.add_paragraph("Total: {{ contract.total }}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _run_states(execution_id) -> list[str]:
    states: list[str] = []
    for _, event in get_streams().read(execution_key(execution_id)):
        if not states or states[-1] != event["status"]:
            states.append(event["status"])
    return states


def test_a_triggered_contract_is_rendered_converted_and_mailed(cast, worker, smtp_server):
    template = template_create(
        organization=cast.acme,
        by=cast.alice,
        name="Service agreement",
        upload=SimpleUploadedFile("agreement.docx", _contract_template()),
    )
    mailer = connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="smtp",
        name="Mail",
        credentials=smtp_credentials(smtp_server),
    )
    workflow = active_workflow(
        cast,
        action(
            "render",
            "render",
            app="docx",
            parameters={"template_id": str(template.pk), "filename": "Agreement {{ trigger.contract.number }}"},
        ),
        action("pdf", "convert", app="pdf", parameters={"document_id": "{{ steps.render.document_id }}"}),
        action(
            "mail",
            "send_email",
            app="smtp",
            connection=mailer,
            parameters={
                "to": "{{ trigger.customer.email }}",
                "subject": "Agreement {{ trigger.contract.number }}",
                "text": "Dear {{ trigger.customer.name }}, your agreement is attached.",
                "html": "<p>Dear {{ trigger.customer.name }}, your agreement is attached.</p>",
                "attachments": ["{{ steps.pdf.document_id }}"],
            },
        ),
    )
    trigger_data = {
        "customer": {"name": "Ana Souza", "email": "ana@client.example"},
        "contract": {"number": "2026-118", "total": "R$ 12.345,50"},
    }
    execution = execution_start(
        workflow=workflow, trigger_data=trigger_data, by=cast.alice, actor_type=ActorType.WEBHOOK
    )
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=90)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    states = _run_states(done.pk)
    expected = ["ready", "sending", "sent", "completed"]
    assert [s for s in states if s in expected] == expected, states

    steps = {s.node_key: s for s in ExecutionStep.objects.filter(execution=done)}
    pdf = GeneratedDocument.objects.get(pk=steps["pdf"].data_out["document_id"])
    assert (pdf.name, pdf.content_type) == ("Agreement 2026-118.pdf", "application/pdf")
    assert pdf.execution_id == done.pk
    assert "render" in done.phase_metrics and "delivery" in done.phase_metrics

    [received] = smtp_server.recorder.received
    assert received.rcpt_tos == ["ana@client.example"]
    message = received.message
    assert message["Subject"] == "Agreement 2026-118"
    [attachment] = list(message.iter_attachments())
    with pdf.file.open("rb") as handle:
        assert attachment.get_content() == handle.read()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=attachment.get_content(), capture_output=True, check=True
    ).stdout.decode()
    text = " ".join(text.split())
    assert "Service Agreement 2026-118" in text
    assert "Client: Ana Souza" in text and "Total: R$ 12.345,50" in text
    assert "{{" not in text

    actions = set(AuditEvent.objects.filter(organization=cast.acme).values_list("action", flat=True))
    assert {"document.generated", "document.sent", "execution.completed"} <= actions


def _docx_document(organization) -> GeneratedDocument:
    from django.core.files.base import ContentFile

    data = _contract_template().replace(b"{{", b"[").replace(b"}}", b"]")
    document = GeneratedDocument(
        organization=organization,
        name="draft.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        size_bytes=len(data),
    )
    document.file.save("draft.docx", ContentFile(data), save=False)
    document.save()
    return document


def test_a_dry_run_converts_the_pdf_but_mails_nothing(cast, worker, smtp_server):
    source = _docx_document(cast.acme)
    mailer = connection_create(
        organization=cast.acme, by=cast.alice, provider="smtp", name="Mail", credentials=smtp_credentials(smtp_server)
    )
    workflow = active_workflow(
        cast,
        action("pdf", "convert", app="pdf", parameters={"document_id": str(source.pk), "filename": "Draft"}),
        action(
            "mail",
            "send_email",
            app="smtp",
            connection=mailer,
            parameters={
                "to": "ana@client.example",
                "subject": "s",
                "text": "t",
                "attachments": "{{ steps.pdf.document_id }}",
            },
        ),
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice, dry_run=True)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=60)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    pdf_step = ExecutionStep.objects.get(execution=done, node_key="pdf")
    pdf = GeneratedDocument.objects.get(pk=pdf_step.data_out["document_id"])
    assert pdf.name == "Draft.pdf" and pdf.size_bytes == pdf_step.data_out["size_bytes"] > 0
    with pdf.file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert ExecutionStep.objects.get(execution=done, node_key="mail").data_out["dry_run"] is True
    assert smtp_server.recorder.data_attempts == 0


def test_pdf_convert_refuses_another_organizations_document(cast, worker):
    foreign = _docx_document(cast.globex)
    workflow = active_workflow(cast, action("pdf", "convert", app="pdf", parameters={"document_id": str(foreign.pk)}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=30)
    assert (done.status, done.last_error_code) == (ExecutionStatus.FAILED, "document.not_found")
    assert not GeneratedDocument.objects.filter(organization=cast.acme).exists()
