"""What `zapsign.create_document` does. The declaration (name, schema, queue) is in actions.py."""

from django.db import transaction
from django.utils.translation import pgettext_lazy

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.signatures import signature_request_record
from docg.providers.documents_io import organization_document
from docg.providers.esign_flow import (
    clean_signers,
    signature_dry_run,
    step_signature_requests,
)
from docg.providers.zapsign.client import ZapSignClient, ZapSignSettings

PROVIDER = "zapsign"


def _settings(ctx: ActionContext) -> ZapSignSettings:
    connection = ctx.active_connection(Provider.ZAPSIGN, "ZapSign")
    return ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {})


def _document(ctx: ActionContext, document_id: str) -> GeneratedDocument:
    return organization_document(ctx, document_id, purpose=pgettext_lazy("document purpose", "sign"))


def _output(envelope_id: str, requests: list[SignatureRequest]) -> dict:
    return {
        "envelope_id": envelope_id,
        "signers": [
            {
                "signature_request_id": str(r.pk),
                "name": r.signer_name,
                "email": r.signer_email,
                "token": r.external_id,
                "status": r.status,
                "sign_url": r.sign_url,
            }
            for r in requests
        ],
    }


def _match(answer_signers: list, index: int, email: str) -> dict:
    """The answer's signer for ours: same e-mail, else same position."""
    candidates = [s for s in answer_signers if isinstance(s, dict)]
    for signer in candidates:
        if str(signer.get("email") or "").lower() == email.lower():
            return signer
    return candidates[index] if index < len(candidates) else {}


def create_document(ctx: ActionContext, params: dict) -> ActionResult:
    settings = _settings(ctx)
    document = _document(ctx, params["document_id"])
    signers = clean_signers(ctx, params)
    name = str(params.get("name") or document.name)
    node_key = ctx.node.get("key", "")
    if ctx.dry_run:
        return signature_dry_run(signers=signers, document=document)

    # A retried or redelivered step: the document was already created at ZapSign.
    existing = step_signature_requests(ctx=ctx, provider=PROVIDER, node_key=node_key)
    if existing:
        return ActionResult(
            output=_output(existing[0].envelope_id, existing), status=ExecutionStatus.SIGNING, wait="signature"
        )

    with document.file.open("rb") as handle:
        pdf = handle.read()
    client = ZapSignClient(settings, headers={"X-Correlation-ID": ctx.correlation_id})
    answer = client.create_document(name=name, pdf=pdf, signers=signers, external_id=f"{ctx.execution.pk}:{node_key}")
    envelope_id = str(answer.get("token") or "")
    answer_signers = answer.get("signers") if isinstance(answer.get("signers"), list) else []
    if not envelope_id:
        raise DocgError(
            "zapsign.bad_response",
            "ZapSign did not return the document's token.",
            {"answer_keys": sorted(answer)},
            transient=False,
        )
    connection_id = str(ctx.connection.pk)
    requests = []
    with transaction.atomic():
        for index, signer in enumerate(signers):
            remote = _match(answer_signers, index, signer["email"])
            request = SignatureRequest.objects.create(
                organization=ctx.organization,
                execution=ctx.execution,
                document=document,
                provider=PROVIDER,
                external_id=str(remote.get("token") or ""),
                envelope_id=envelope_id,
                signer_name=signer["name"],
                signer_email=signer["email"],
                sign_url=str(remote.get("sign_url") or "")[:1000],
                provider_data={"node_key": node_key, "connection_id": connection_id, "processed": []},
            )
            requests.append(request)
            signature_request_record(execution=ctx.execution, request=request, node_key=node_key)
    output = {**_output(envelope_id, requests), "document_id": str(document.pk)}
    return ActionResult(output=output, status=ExecutionStatus.SIGNING, wait="signature")
