"""What `smtp.send_email` does. The declaration (name, schema, queue) is in actions.py."""

import hashlib
import re
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from django.db import transaction
from django.utils import timezone

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.connectors.choices import Provider
from docg.connectors.errors import ConnectorError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.connectors.smtp.client import SmtpClient, SmtpSettings, translate
from docg.connectors.smtp.recipients import is_valid_email, split_addresses
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution

SMTP_TIMEOUT_SECONDS = 30
_ATTEMPT = re.compile(r":\d+$")


def _settings(ctx: ActionContext) -> SmtpSettings:
    connection = ctx.active_connection(Provider.SMTP, "SMTP")
    # Non-secret settings may sit in `config`; the encrypted credentials win.
    return SmtpSettings.from_credentials(
        {**(connection.config or {}), **(connection.credentials or {})}, timeout=SMTP_TIMEOUT_SECONDS
    )


def _recipients(ctx: ActionContext, params: dict) -> dict[str, list[tuple[str, str]]]:
    found = {field: split_addresses(params.get(field)) for field in ("to", "cc", "bcc")}
    bad = [address for pairs in found.values() for _, address in pairs if not is_valid_email(address)]
    if bad or not found["to"]:
        shown = ", ".join(repr(b) for b in bad) or ctx.say("no recipient", "nenhum destinatário")
        raise ConnectorError(
            "delivery.invalid_email",
            ctx.say(f"Invalid e-mail address: {shown}.", f"Endereço de e-mail inválido: {shown}."),
            {"invalid": bad, "to": params.get("to")},
        )
    return found


def _attachments(ctx: ActionContext, params: dict) -> list[GeneratedDocument]:
    ids = params.get("attachments") or []
    ids = [ids] if isinstance(ids, str) else ids
    return [ctx.organization_document(i, purpose="attach", purpose_pt="anexar") for i in ids]


def message_id_for(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one step: a receiver can recognise a retried send."""
    stable = _ATTEMPT.sub("", idempotency_key)
    domain = sender.rpartition("@")[2] or "docg.local"
    return f"<docg.{hashlib.sha256(stable.encode()).hexdigest()[:32]}@{domain}>"


def _header_text(value: str) -> str:
    # A subject from trigger data must not smuggle headers in (CR/LF are refused by the email package anyway).
    return " ".join(str(value).split())


def build_message(
    ctx: ActionContext,
    params: dict,
    *,
    sender: str,
    recipients: dict[str, list[tuple[str, str]]],
    documents: list[GeneratedDocument],
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(formataddr(pair) for pair in recipients["to"])
    if recipients["cc"]:
        message["Cc"] = ", ".join(formataddr(pair) for pair in recipients["cc"])
    # Bcc never goes into the headers: those addresses are only in the envelope.
    message["Subject"] = _header_text(params["subject"])
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_for(ctx.idempotency_key, sender)
    message["X-Correlation-ID"] = ctx.correlation_id
    message["X-Docg-Idempotency-Key"] = ctx.idempotency_key
    message.set_content(str(params["text"]))
    if params.get("html"):
        message.add_alternative(str(params["html"]), subtype="html")
    for document in documents:
        with document.file.open("rb") as handle:
            data = handle.read()
        maintype, _, subtype = (document.content_type or "application/octet-stream").partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=document.name)
    return message


def _envelope(recipients: dict[str, list[tuple[str, str]]]) -> list[str]:
    seen: dict[str, str] = {}
    for pairs in recipients.values():
        for _, address in pairs:
            seen.setdefault(address.lower(), address)
    return list(seen.values())


def send_email(ctx: ActionContext, params: dict) -> ActionResult:
    settings = _settings(ctx)
    sender = settings.from_email
    if not is_valid_email(sender):
        raise ConnectorError(
            "smtp.misconfigured",
            ctx.say(
                f"The SMTP connection's sender address is not valid ({sender!r}).",
                f"O endereço de remetente da conexão SMTP não é válido ({sender!r}).",
            ),
            {"from_email": sender},
        )
    recipients = _recipients(ctx, params)
    documents = _attachments(ctx, params)
    message = build_message(ctx, params, sender=sender, recipients=recipients, documents=documents)
    envelope = _envelope(recipients)
    summary = {
        "message_id": message["Message-ID"],
        "from": sender,
        "to": [a for _, a in recipients["to"]],
        "cc": [a for _, a in recipients["cc"]],
        "bcc": [a for _, a in recipients["bcc"]],
        "subject": message["Subject"],
        "attachments": [{"document_id": str(d.pk), "name": d.name} for d in documents],
    }
    if ctx.dry_run:
        # Nothing leaves docg; the run goes on as "running", not "sent".
        state = {"status": "dry_run", "message_id": summary["message_id"], "accepted": [], "refused": {}}
        _keep_delivery_state(ctx, state)
        output = {**summary, "dry_run": True, "delivery_state": state}
        return ActionResult(output=output, status=ExecutionStatus.RUNNING)
    try:
        delivery = SmtpClient(settings).send(message, sender=sender, recipients=envelope)
    except ConnectorError as exc:
        exc.message_human = translate(exc, ctx.language)
        state = {
            "status": "retrying" if exc.transient else "failed",
            "message_id": summary["message_id"],
            "error_code": exc.code,
            "error": exc.message_human,
            "attempt": getattr(ctx.step, "attempt", 1),
        }
        _keep_delivery_state(ctx, state)
        raise
    state = {
        "status": "sent",
        "message_id": summary["message_id"],
        "accepted": delivery.accepted,
        "refused": {a: {"smtp_code": c, "smtp_reply": t} for a, (c, t) in delivery.refused.items()},
        "server": f"{settings.host}:{settings.port}",
        "attempt": getattr(ctx.step, "attempt", 1),
        "sent_at": timezone.now().isoformat(),
    }
    _record_sent(ctx, summary, documents, state)
    return ActionResult(output={**summary, "delivery_state": state}, status=ExecutionStatus.SENT)


def _keep_delivery_state(ctx: ActionContext, state: dict) -> None:
    # delivery_state is the run's record of the e-mail, not its status: a plain update, no state machine.
    WorkflowExecution.objects.filter(pk=ctx.execution.pk).update(delivery_state=state)


def _record_sent(ctx: ActionContext, summary: dict, documents: list[GeneratedDocument], state: dict) -> None:
    metadata = {
        "message_id": summary["message_id"],
        "to": summary["to"],
        "recipients": len(summary["to"]) + len(summary["cc"]) + len(summary["bcc"]),
        "subject": summary["subject"][:200],
        "node_key": getattr(ctx.step, "node_key", ""),
    }
    with transaction.atomic():
        _keep_delivery_state(ctx, state)
        for document in documents:
            audit_log(
                organization=ctx.organization,
                action=AuditAction.DOCUMENT_SENT,
                target_type="document",
                target_id=document.pk,
                metadata={**metadata, "name": document.name},
                correlation_id=ctx.correlation_id,
            )
        if not documents:  # an e-mail without attachments is still a delivery worth a trace
            audit_log(
                organization=ctx.organization,
                action=AuditAction.DOCUMENT_SENT,
                target_type="email",
                target_id=summary["message_id"],
                metadata=metadata,
                correlation_id=ctx.correlation_id,
            )
