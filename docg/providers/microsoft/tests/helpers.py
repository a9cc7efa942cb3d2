"""Builders shared by the Microsoft connector tests: connections, templates, contexts."""

import io
import time

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.connectors.runtime import ActionContext
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument
from docg.documents.services import template_create
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.executions.tests.builders import action, active_workflow

from .fake import TOKEN

TRIGGER = {
    "customer": {"name": "Ana Souza", "email": "ana@client.example"},
    "contract": {"number": "2026-118", "total": "R$ 12.345,50"},
}


def microsoft_connection(cast, organization=None, **credentials):
    return connection_create(
        organization=organization or cast.acme,
        by=cast.alice,
        provider="microsoft",
        name="Ana's Microsoft 365",
        credentials={
            "access_token": TOKEN,
            "refresh_token": "ms-refresh-token",
            "expires_at": time.time() + 30 * 24 * 3600,
            **credentials,
        },
    )


def contract_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Service Agreement {{ contract.number }}", level=1)
    document.add_paragraph("Client: {{ customer.name }}")
    document.add_paragraph("Total: {{ contract.total }}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def proposal_pptx() -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Proposal for {{ customer.name }}"
    slide.placeholders[1].text = "Total: {{ contract.total }}"
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def docx_text(data: bytes) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def pptx_text(data: bytes) -> str:
    import pptx

    deck = pptx.Presentation(io.BytesIO(data))
    return "\n".join(s.text_frame.text for slide in deck.slides for s in slide.shapes if s.has_text_frame)


def template(cast, kind: str = "docx", organization=None):
    data, name = (contract_docx(), "agreement.docx") if kind == "docx" else (proposal_pptx(), "proposal.pptx")
    return template_create(
        organization=organization or cast.acme,
        by=cast.alice,
        name="Service agreement" if kind == "docx" else "Proposal",
        upload=SimpleUploadedFile(name, data),
    )


def stored_pdf(organization, data: bytes = b"%PDF-1.4\n%stored\n%%EOF\n", name="contract.pdf") -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name=name, content_type="application/pdf")
    document.size_bytes = len(data)
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    return document


def fill_node(connection, template_, key="fill", app="microsoft_word", operation="fill_document", **parameters):
    params = {"template_id": str(template_.pk), "filename": "Agreement {{ trigger.contract.number }}", **parameters}
    return action(key, operation, app=app, connection=connection, parameters=params)


def mail_node(connection, key="mail", **parameters):
    params = {
        "to": "{{ trigger.customer.email }}",
        "subject": "Agreement {{ trigger.contract.number }}",
        "body": "<p>Dear {{ trigger.customer.name }}, your agreement is attached.</p>",
        **parameters,
    }
    return action(key, "send_mail", app="outlook", connection=connection, parameters=params)


def running_execution(cast, *nodes, dry_run=False):
    workflow = active_workflow(cast, *nodes)
    execution = execution_start(workflow=workflow, trigger_data=TRIGGER, by=cast.alice, dry_run=dry_run)
    execution = WorkflowExecution.objects.get(pk=execution.pk)
    execution_transition(execution=execution, target="running")
    return execution


def context(cast, connection, execution, *, key="fill", dry_run=False, language="en") -> ActionContext:
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": key},
        organization=cast.acme,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:{key}:1",
        correlation_id=str(execution.correlation_id),
        language=language,
        connection=connection,
        expression_context={"trigger": TRIGGER},
    )
