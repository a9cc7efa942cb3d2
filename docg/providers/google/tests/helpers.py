"""Connections, runs and contexts for the Google connector tests."""

import time

from django.core.files.base import ContentFile

from docg.connectors.runtime import ActionContext
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.tests.builders import action, active_workflow
from docg.providers.google.tests.fake import DOC_MIME, SLIDES_MIME, TOKEN

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOC_TEMPLATE = "1TmplDocAbc"
SLIDES_TEMPLATE = "1TmplSlidesXyz"
FOLDER = "0FolderContracts"


def google_connection(cast, organization=None, **credentials):
    organization = organization or cast.acme
    return connection_create(
        organization=organization,
        by=cast.charlie if organization == cast.globex else cast.alice,
        provider="google",
        name="Google (contracts@acme.example)",
        credentials={
            "access_token": TOKEN,
            "refresh_token": "1//refresh",
            "expires_at": time.time() + 30 * 24 * 3600,
            **credentials,
        },
        config={"email": "contracts@acme.example"},
    )


def add_templates(fake) -> None:
    fake.add_file(FOLDER, name="Contracts", mime="application/vnd.google-apps.folder")
    fake.add_file(DOC_TEMPLATE, name="Contract template", mime=DOC_MIME, text="Contract for {{name}}, total {{total}}.")
    fake.add_file(SLIDES_TEMPLATE, name="Proposal deck", mime=SLIDES_MIME, text="Proposal for {{name}} {{logo}}")


def stored_pdf(organization, name: str = "contract.pdf") -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name=name, content_type="application/pdf")
    document.size_bytes = len(PDF)
    document.file.save(name, ContentFile(PDF), save=False)
    document.save()
    return document


def run_for(cast, connection, node_key: str = "fill", *, app="google_docs", operation="fill_document", parameters=None):
    """A queued run of a one-action workflow (the action is called directly by the tests)."""
    defaults = {
        "fill_document": {"template_file_id": DOC_TEMPLATE, "folder_id": FOLDER},
        "fill_presentation": {"template_file_id": SLIDES_TEMPLATE, "folder_id": FOLDER},
        "upload": {"document_id": "{{ steps.fill.document_id }}", "folder_id": FOLDER},
        "send": {"to": "ana@client.example", "subject": "Contract", "body": "Attached."},
    }
    node = action(node_key, operation, app=app, connection=connection, parameters=parameters or defaults[operation])
    workflow = active_workflow(cast, node)
    execution = execution_start(workflow=workflow, trigger_data={"name": "Ana"}, by=cast.alice)
    return WorkflowExecution.objects.get(pk=execution.pk)


def context(cast, connection, execution, *, node_key="fill", dry_run=False, language="en", attempt=1):
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": node_key, "label": node_key},
        organization=execution.organization,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:{node_key}:{attempt}",
        correlation_id=str(execution.correlation_id),
        language=language,
        connection=connection,
    )
