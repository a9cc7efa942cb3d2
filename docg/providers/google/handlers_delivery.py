"""What `google_drive.upload` and `gmail.send` do. Dry runs send nothing to Google."""

import base64
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.providers.documents_io import organization_document
from docg.providers.email_delivery import (
    delivery_dry_run,
    delivery_failed,
    delivery_record_sent,
    email_attachments,
    email_recipients,
    email_summary,
    message_id_for,
    mime_attach,
)
from docg.providers.google.common import google_client, step_tag, translated
from docg.providers.sender_check import connection_account, step_sender

# --- Drive ----------------------------------------------------------------------------


def drive_upload(ctx: ActionContext, params: dict) -> ActionResult:
    document = organization_document(ctx, params["document_id"], purpose=pgettext_lazy("document purpose", "upload"))
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
    mime_attach(message=message, documents=documents)
    return message


def gmail_send(ctx: ActionContext, params: dict) -> ActionResult:
    connection = ctx.active_connection("google", "Google")
    recipients = email_recipients(ctx=ctx, params=params)
    documents = email_attachments(ctx=ctx, params=params)
    sender = step_sender(params, connection_account(connection))
    message = build_message(ctx, params, recipients, documents, sender)
    summary = {
        "message_id": message["Message-ID"],
        **email_summary(recipients=recipients, subject=message["Subject"], documents=documents),
    }
    identity = {"provider": "gmail", "message_id": summary["message_id"]}
    if ctx.dry_run:
        return delivery_dry_run(summary=summary, state={"status": "dry_run", **identity})
    client = google_client(ctx)
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
    try:
        with translated(ctx):
            answer = client.gmail_send(raw=raw)
    except DocgError as exc:
        delivery_failed(ctx=ctx, error=exc, message=exc.human, identity=identity)
        raise
    state = {
        "status": "sent",
        **identity,
        "gmail_id": str(answer.get("id") or ""),
        "thread_id": str(answer.get("threadId") or ""),
        "attempt": getattr(ctx.step, "attempt", 1),
        "sent_at": timezone.now().isoformat(),
    }
    delivery_record_sent(
        ctx=ctx,
        summary=summary,
        documents=documents,
        metadata={**identity, "gmail_id": state["gmail_id"], "node_key": ctx.node.get("key", "")},
        email_target_id=summary["message_id"],
    )
    output = {**summary, "gmail_id": state["gmail_id"], "thread_id": state["thread_id"], "delivery_state": state}
    return ActionResult(output=output, status=ExecutionStatus.SENT, delivery_state=state)
