"""What `zapsign.create_document` does. The declaration (name, schema, queue) is in actions.py."""

from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.connectors.choices import Provider
from docg.connectors.errors import ConnectorError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.connectors.zapsign.client import ZapSignClient, ZapSignSettings
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.events import publish_event

PROVIDER = "zapsign"


def _settings(ctx: ActionContext) -> ZapSignSettings:
    connection = ctx.active_connection(Provider.ZAPSIGN, "ZapSign")
    return ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {})


def _document(ctx: ActionContext, document_id: str) -> GeneratedDocument:
    return ctx.organization_document(document_id, purpose="sign", purpose_pt="assinar")


def clean_signers(ctx: ActionContext, params: dict) -> list[dict]:
    """The step's signers with tidy names and plausible e-mails; else a permanent error (shared with ClickSign)."""
    signers = []
    for signer in params.get("signers") or []:
        name = " ".join(str(signer.get("name") or "").split())
        email = str(signer.get("email") or "").strip()
        if not name or "@" not in email:
            raise ConnectorError(
                "signature.invalid_signer",
                ctx.say(f"Invalid signer: {signer!r}.", f"Signatário inválido: {signer!r}."),
                {"signer": signer},
            )
        signers.append({"name": name, "email": email})
    if not signers:
        raise ConnectorError("signature.invalid_signer", ctx.say("No signer.", "Nenhum signatário."), {})
    return signers


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
        planned = [{**s, "status": "dry_run"} for s in signers]
        output = {"envelope_id": "", "signers": planned, "document_id": str(document.pk), "dry_run": True}
        return ActionResult(output=output, status=ExecutionStatus.RUNNING)

    # A retried or redelivered step: the document was already created at ZapSign.
    existing = list(
        SignatureRequest.objects.filter(
            execution=ctx.execution, provider=PROVIDER, provider_data__node_key=node_key
        ).order_by("created_at")
    )
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
        raise ConnectorError(
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
            details = {
                "signature_request_id": str(request.pk),
                "provider": PROVIDER,
                "envelope_id": envelope_id,
                "signer_email": request.signer_email,
                "document_id": str(document.pk),
            }
            publish_event(ctx.execution, "signature.requested", details)
            audit_log(
                organization=ctx.organization,
                action=AuditAction.SIGNATURE_REQUESTED,
                target_type="signature_request",
                target_id=request.pk,
                metadata={**details, "execution_id": str(ctx.execution.pk), "node_key": node_key},
                correlation_id=ctx.correlation_id,
            )
    output = {**_output(envelope_id, requests), "document_id": str(document.pk)}
    return ActionResult(output=output, status=ExecutionStatus.SIGNING, wait="signature")
