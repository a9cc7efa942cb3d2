"""Builders shared by the ClickSign tests: a connection, a PDF, a run waiting in `signing`, signed deliveries."""

import hashlib
import hmac
import json
from datetime import timedelta

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from docg.connectors.runtime import ActionContext
from docg.connectors.services import connection_create
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests.builders import action, active_workflow
from docg.providers.clicksign.tests.fake import TOKEN

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SECRET = "cs-hmac-9d2f61c0a7b84e3f95d1c6a2b8e04f7d"
SIGNERS = [
    {"name": "Ana Souza", "email": "ana@client.example"},
    {"name": "Bruno Lima", "email": "bruno@client.example"},
]


def connection(cast, **credentials):
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="clicksign",
        name="ClickSign",
        credentials={"access_token": TOKEN, "webhook_secret": SECRET, **credentials},
    )


def pdf_document(organization) -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name="contract.pdf", content_type="application/pdf")
    document.size_bytes = len(PDF)
    document.file.save("contract.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


def node(conn, document, **extra):
    parameters = {"document_id": str(document.pk), "signers": SIGNERS, "name": "Contract {{ trigger.number }}", **extra}
    return action("sign", "create_envelope", app="clicksign", connection=conn, parameters=parameters)


def context(cast, conn, execution, *, dry_run=False, language="en"):
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": "sign"},
        organization=cast.acme,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:sign:1",
        correlation_id=str(execution.correlation_id),
        language=language,
        connection=conn,
    )


def running_execution(cast, conn, document):
    workflow = active_workflow(cast, node(conn, document))
    execution = execution_start(workflow=workflow, trigger_data={"number": "7"}, by=cast.alice)
    execution = WorkflowExecution.objects.get(pk=execution.pk)
    execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    return execution


def event(name, document_key, *, signer=None, ago=timedelta(0)):
    """A ClickSign webhook body: `event` {name, data, occurred_at} and the `document` it is about."""
    return {
        "event": {
            "name": name,
            "data": {"signer": signer} if signer else None,
            "occurred_at": (timezone.now() - ago).isoformat(),
        },
        "document": {"key": document_key, "filename": "contract.pdf", "status": "running"},
    }


def sign_hmac(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def hook(conn, body=None, *, raw: bytes | None = None, signature: str | None = None, secret: str = SECRET):
    raw = raw if raw is not None else json.dumps(body).encode()
    signature = sign_hmac(raw, secret) if signature is None else signature
    headers = {"HTTP_CONTENT_HMAC": signature} if signature else {}
    return Client().post(f"/hooks/clicksign/{conn.pk}", data=raw, content_type="application/json", **headers)


def state():
    return sorted(SignatureRequest.objects.values_list("signer_email", "status"))


def event_types(execution) -> list[str]:
    return [e["event_type"] for _, e in get_streams().read(execution_key(execution.pk))]
