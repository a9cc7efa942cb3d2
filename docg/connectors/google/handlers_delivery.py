"""What `google_drive.upload` and `gmail.send` do. Dry runs send nothing to Google."""

import base64
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from django.db import transaction
from django.utils import timezone

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.connectors.errors import ConnectorError
from docg.connectors.google.common import google_client, step_tag, translated
from docg.connectors.runtime import ActionContext, ActionResult
from docg.connectors.smtp.handlers import message_id_for
from docg.connectors.smtp.recipients import is_valid_email, split_addresses
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution

# --- Drive ----------------------------------------------------------------------------


def drive_upload(ctx: ActionContext, params: dict) -> ActionResult:
    document = ctx.organization_document(params["document_id"], purpose="upload", purpose_pt="enviar")
    folder_id = str(params["folder_id"]).strip()
    name = str(params.get("name") or document.name)
    summary = {"document_id": str(document.pk), "folder_id": folder_id, "name": name}
    if ctx.dry_run:
        return ActionResult(output={**summary, "file_id": "", "web_view_link": "", "dry_run": True})
    client = google_client(ctx)
    tag = step_tag(ctx)
    with translated(ctx):
        # A retry after a lost answer: the upload may have landed; never make a second file.
        uploaded = client.drive_find_step_file(step=tag)
        reused = uploaded is not None
        if uploaded is None:
            with document.file.open("rb") as handle:
                data = handle.read()
            uploaded = client.drive_upload(
                name=name, data=data, mime_type=document.content_type, folder_id=folder_id, step=tag
            )
    output = {
        **summary,
        "file_id": str(uploaded.get("id") or ""),
        "web_view_link": str(uploaded.get("webViewLink") or ""),
        "reused": reused,
    }
    audit_log(
        organization=ctx.organization,
        action=AuditAction.DOCUMENT_SAVED,
        target_type="document",
        target_id=document.pk,
        metadata={**output, "storage": "google_drive", "execution_id": str(ctx.execution.pk)},
        correlation_id=ctx.correlation_id,
    )
    return ActionResult(output=output)


# --- Gmail ----------------------------------------------------------------------------


def _addresses(params: dict, field: str) -> list[tuple[str, str]]:
    return split_addresses(params.get(field))


def _recipients(ctx: ActionContext, params: dict) -> dict[str, list[tuple[str, str]]]:
    found = {field: _addresses(params, field) for field in ("to", "cc", "bcc")}
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


def build_message(
    ctx: ActionContext, params: dict, recipients: dict, documents: list[GeneratedDocument], sender: str
) -> EmailMessage:
    message = EmailMessage()
    if sender:
        message["From"] = sender  # else Gmail writes the connected account's address
    message["To"] = ", ".join(formataddr(pair) for pair in recipients["to"])
    if recipients["cc"]:
        message["Cc"] = ", ".join(formataddr(pair) for pair in recipients["cc"])
    if recipients["bcc"]:
        # Gmail reads Bcc from the raw message to deliver it, and strips it from what recipients see.
        message["Bcc"] = ", ".join(formataddr(pair) for pair in recipients["bcc"])
    message["Subject"] = " ".join(str(params["subject"]).split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_for(ctx.idempotency_key, sender or "docg@gmail.com")
    message["X-Correlation-ID"] = ctx.correlation_id
    message.set_content(str(params.get("body") or ""))
    if params.get("html"):
        message.add_alternative(str(params["html"]), subtype="html")
    for document in documents:
        with document.file.open("rb") as handle:
            data = handle.read()
        maintype, _, subtype = (document.content_type or "application/octet-stream").partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=document.name)
    return message


def gmail_send(ctx: ActionContext, params: dict) -> ActionResult:
    connection = ctx.active_connection("google", "Google")
    recipients = _recipients(ctx, params)
    documents = _attachments(ctx, params)
    sender = str((connection.config or {}).get("email") or "")
    message = build_message(ctx, params, recipients, documents, sender)
    summary = {
        "message_id": message["Message-ID"],
        "to": [a for _, a in recipients["to"]],
        "cc": [a for _, a in recipients["cc"]],
        "bcc": [a for _, a in recipients["bcc"]],
        "subject": message["Subject"],
        "attachments": [{"document_id": str(d.pk), "name": d.name} for d in documents],
    }
    if ctx.dry_run:
        state = {"status": "dry_run", "provider": "gmail", "message_id": summary["message_id"]}
        _keep_delivery_state(ctx, state)
        return ActionResult(
            output={**summary, "dry_run": True, "delivery_state": state}, status=ExecutionStatus.RUNNING
        )
    client = google_client(ctx)
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
    try:
        with translated(ctx):
            answer = client.gmail_send(raw=raw)
    except ConnectorError as exc:
        state = {
            "status": "retrying" if exc.transient else "failed",
            "provider": "gmail",
            "message_id": summary["message_id"],
            "error_code": exc.code,
            "error": exc.message_human,
            "attempt": getattr(ctx.step, "attempt", 1),
        }
        _keep_delivery_state(ctx, state)
        raise
    state = {
        "status": "sent",
        "provider": "gmail",
        "message_id": summary["message_id"],
        "gmail_id": str(answer.get("id") or ""),
        "thread_id": str(answer.get("threadId") or ""),
        "attempt": getattr(ctx.step, "attempt", 1),
        "sent_at": timezone.now().isoformat(),
    }
    _record_sent(ctx, summary, documents, state)
    output = {**summary, "gmail_id": state["gmail_id"], "thread_id": state["thread_id"], "delivery_state": state}
    return ActionResult(output=output, status=ExecutionStatus.SENT)


def _keep_delivery_state(ctx: ActionContext, state: dict) -> None:
    # delivery_state is the run's record of the e-mail, not its status: a plain update, no state machine.
    WorkflowExecution.objects.filter(pk=ctx.execution.pk).update(delivery_state=state)


def _record_sent(ctx: ActionContext, summary: dict, documents: list[GeneratedDocument], state: dict) -> None:
    metadata = {
        "provider": "gmail",
        "message_id": summary["message_id"],
        "gmail_id": state["gmail_id"],
        "to": summary["to"],
        "recipients": len(summary["to"]) + len(summary["cc"]) + len(summary["bcc"]),
        "subject": summary["subject"][:200],
        "node_key": ctx.node.get("key", ""),
    }
    with transaction.atomic():
        _keep_delivery_state(ctx, state)
        targets = [("document", d.pk, {"name": d.name}) for d in documents] or [("email", summary["message_id"], {})]
        for target_type, target_id, extra in targets:
            audit_log(
                organization=ctx.organization,
                action=AuditAction.DOCUMENT_SENT,
                target_type=target_type,
                target_id=target_id,
                metadata={**metadata, **extra},
                correlation_id=ctx.correlation_id,
            )
