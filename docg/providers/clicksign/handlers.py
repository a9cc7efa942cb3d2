"""What `clicksign.create_envelope` does. The declaration (name, schema, queue) is in actions.py.

An envelope takes 4 + 2n calls (envelope, document, n signers, 2n requirements,
activate, notify), and a transient error can stop the step half way. So the
SignatureRequest rows are written first and each call's result is kept on them
as it arrives: a retried or redelivered step picks up where the last attempt
stopped and never creates a second envelope for the same (execution, node).
"""

from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from docg.common.errors import DocgError, language_code
from docg.connectors.choices import Provider
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.signatures import signature_request_record
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings, translate
from docg.providers.documents_io import organization_document
from docg.providers.esign_flow import (
    clean_signers,
    signature_dry_run,
    step_signature_requests,
)

PROVIDER = "clicksign"
QUALIFICATION = {"action": "agree", "role": "sign"}
AUTHENTICATION = {"action": "provide_evidence", "auth": "email"}


def _deadline(ctx: ActionContext, value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        when = parse_datetime(text) or parse_date(text)
    except ValueError:
        when = None
    if when is None:
        raise DocgError(
            "signature.invalid_deadline",
            ctx.say(
                _("The signing deadline '%(text)s' is not a date (use YYYY-MM-DD or an ISO date-time)."), text=text
            ),
            {"deadline": text},
        )
    return when.isoformat()


def _output(requests: list[SignatureRequest]) -> dict:
    first = requests[0].provider_data or {}
    return {
        "envelope_id": requests[0].envelope_id,
        "document_key": first.get("document_key", ""),
        "signers": [
            {
                "signature_request_id": str(r.pk),
                "name": r.signer_name,
                "email": r.signer_email,
                "signer_id": r.external_id,
                "status": r.status,
            }
            for r in requests
        ],
    }


def _rows(ctx: ActionContext, document: GeneratedDocument, signers: list[dict], node_key: str) -> list:
    """This step's SignatureRequests: the ones an earlier attempt wrote, else new ones (the checkpoint)."""
    existing = step_signature_requests(ctx=ctx, provider=PROVIDER, node_key=node_key)
    if existing:
        return existing
    connection_id = str(ctx.connection.pk)
    with transaction.atomic():
        return [
            SignatureRequest.objects.create(
                organization=ctx.organization,
                execution=ctx.execution,
                document=document,
                provider=PROVIDER,
                signer_name=signer["name"],
                signer_email=signer["email"],
                provider_data={"node_key": node_key, "connection_id": connection_id, "processed": []},
            )
            for signer in signers
        ]


def _remember(requests: list[SignatureRequest], **values: Any) -> None:
    """Keep an envelope-wide checkpoint on every row of the envelope."""
    for request in requests:
        request.provider_data = {**(request.provider_data or {}), **values}
        request.save(update_fields=["envelope_id", "provider_data", "updated_at"])


def _build(client: ClickSignClient, requests: list, document: GeneratedDocument, name: str, locale: str, deadline: str):
    state = requests[0].provider_data or {}
    envelope_id = requests[0].envelope_id
    if not envelope_id:
        envelope_id = client.create_envelope(name=name, locale=locale, deadline_at=deadline)
        for request in requests:
            request.envelope_id = envelope_id
        _remember(requests)
    document_key = state.get("document_key", "")
    if not document_key:
        with document.file.open("rb") as handle:
            pdf = handle.read()
        filename = document.name if document.name.lower().endswith(".pdf") else f"{document.name}.pdf"
        document_key = client.create_document(envelope_id=envelope_id, filename=filename, pdf=pdf)
        _remember(requests, document_key=document_key)
    for request in requests:
        if not request.external_id:
            request.external_id = client.create_signer(
                envelope_id=envelope_id, name=request.signer_name, email=request.signer_email
            )
            request.save(update_fields=["external_id", "updated_at"])
        data = request.provider_data or {}
        for kind, attributes in (("qualification", QUALIFICATION), ("authentication", AUTHENTICATION)):
            if not data.get(f"{kind}_id"):
                data[f"{kind}_id"] = client.create_requirement(
                    envelope_id=envelope_id,
                    document_id=document_key,
                    signer_id=request.external_id,
                    attributes=attributes,
                )
                request.provider_data = data
                request.save(update_fields=["provider_data", "updated_at"])
    if not state.get("activated"):
        client.activate_envelope(envelope_id=envelope_id)
        _remember(requests, activated=True)
    if not state.get("notified"):
        client.notify_envelope(envelope_id=envelope_id)
        _remember(requests, notified=True)


def _announce(ctx: ActionContext, requests: list[SignatureRequest], node_key: str) -> None:
    """signature.requested (event + audit) once per signer, in one transaction, after the envelope is live."""
    with transaction.atomic():
        for request in requests:
            if (request.provider_data or {}).get("requested"):
                continue
            _remember([request], requested=True)
            signature_request_record(execution=ctx.execution, request=request, node_key=node_key)


def create_envelope(ctx: ActionContext, params: dict) -> ActionResult:
    connection = ctx.active_connection(Provider.CLICKSIGN, "ClickSign")
    try:
        settings = ClickSignSettings.from_connection(connection.credentials or {})
    except DocgError as exc:
        exc.human = translate(exc, ctx.language)
        raise
    document = organization_document(ctx, params["document_id"], purpose=pgettext_lazy("document purpose", "sign"))
    signers = clean_signers(ctx, params)
    deadline = _deadline(ctx, params.get("deadline"))
    name = str(params.get("name") or document.name)[:255]
    node_key = ctx.node.get("key", "")
    if ctx.dry_run:
        return signature_dry_run(signers=signers, document=document)

    requests = _rows(ctx, document, signers, node_key)
    locale = "pt-BR" if language_code(ctx.language) == "pt-br" else "en-US"
    client = ClickSignClient(settings, headers={"X-Correlation-ID": ctx.correlation_id})
    try:
        _build(client, requests, document, name, locale, deadline)
    except DocgError as exc:
        exc.human = translate(exc, ctx.language)
        raise
    _announce(ctx, requests, node_key)
    output = {**_output(requests), "document_id": str(document.pk)}
    return ActionResult(output=output, status=ExecutionStatus.SIGNING, wait="signature")
