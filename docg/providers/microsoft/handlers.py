"""What `microsoft_word.fill_document`, `microsoft_powerpoint.fill_presentation` and `outlook.send_mail` do.

Filling: docg renders the organization's .docx/.pptx template locally with the
sandboxed renderer (docg/documents/rendering), uploads the filled file to the
connection's OneDrive (or a SharePoint library, `drive_id`), asks Graph for its
PDF and stores that PDF as the step's GeneratedDocument, so later steps sign or
mail it by `document_id`. The remote name carries the execution id and the upload
replaces on conflict, so a retried step overwrites its own copy. A dry run
renders and stores the filled file but sends nothing to Microsoft.
"""

import base64
import re
import time
from email.utils import parseaddr
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.oauth import fresh_access_token
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.documents.rendering.errors import render_error, step_error
from docg.documents.rendering.render import render_bytes
from docg.documents.rendering.templates import KINDS, document_name, template_bytes, template_for
from docg.documents.storage import document_for_step, document_store
from docg.executions.choices import ExecutionStatus
from docg.providers.email_delivery import (
    delivery_dry_run,
    delivery_failed,
    delivery_record_sent,
    email_attachments,
    email_recipients,
    email_summary,
)
from docg.providers.microsoft.client import GraphClient
from docg.providers.microsoft.messages import microsoft_error, translate

DEFAULT_FOLDER = "docg"
# Graph refuses sendMail requests over 4 MB; base64 makes attachments a third larger.
MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"*:<>?\\|#%]+")


def microsoft_connection(ctx: ActionContext):
    """The step's active Microsoft connection; an expired one is `oauth_expired` (reconnect)."""
    connection = ctx.connection
    expired = connection is not None and connection.status == ConnectionStatus.EXPIRED
    if expired and connection.provider == Provider.MICROSOFT:
        raise microsoft_error("oauth_expired", connection.name, {"connection_id": str(connection.pk)})
    return ctx.active_connection(Provider.MICROSOFT, "Microsoft")


def graph_client(ctx: ActionContext, connection) -> GraphClient:
    try:
        token = fresh_access_token(connection=connection, correlation_id=ctx.correlation_id)
    except DocgError as exc:
        if exc.code == "oauth_expired":
            raise microsoft_error("oauth_expired", connection.name, exc.details) from exc
        raise
    return GraphClient(token, headers={"X-Correlation-ID": ctx.correlation_id})


def _translated(handler):
    """Give provider errors the organization's language (clients raise them in English)."""

    def wrapped(ctx: ActionContext, params: dict) -> ActionResult:
        try:
            return handler(ctx, params)
        except DocgError as exc:
            exc.human = translate(exc, ctx.language)
            raise

    wrapped.__name__ = handler.__name__
    return wrapped


# --- Word / PowerPoint ------------------------------------------------------------------


def folder_path(value: Any) -> str:
    """A drive folder path without characters OneDrive refuses, `..` or empty segments."""
    segments = [_UNSAFE.sub("-", s).strip(" .") for s in str(value if value is not None else DEFAULT_FOLDER).split("/")]
    return "/".join(s for s in segments if s)[:400]


def _fill_output(document: GeneratedDocument, **extra: Any) -> dict[str, Any]:
    return {
        "document_id": str(document.pk),
        "name": document.name,
        "size_bytes": document.size_bytes,
        "content_type": document.content_type,
        **extra,
    }


def _store(ctx: ActionContext, **kwargs: Any) -> GeneratedDocument:
    try:
        document = document_store(organization=ctx.organization, execution=ctx.execution, **kwargs)
    except DatabaseError:
        raise
    except Exception as exc:  # the storage backend (disk full, S3 unreachable): try again later
        raise render_error("storage.unavailable", f"{type(exc).__name__}: {exc}", transient=True) from exc
    return ctx.document_stored(document)


def _fill(ctx: ActionContext, params: dict, kind: str) -> ActionResult:
    node_key = ctx.node.get("key", "")
    earlier = document_for_step(execution=ctx.execution, node_key=node_key)
    if earlier is not None:
        # A redelivered or retried step whose PDF is stored already: convert it once.
        return ActionResult(output=_fill_output(earlier, reused=True), status=ExecutionStatus.READY)
    connection = microsoft_connection(ctx)
    template = template_for(organization=ctx.organization, template_id=params["template_id"], kind=kind)
    data = params["data"] if "data" in params else (ctx.expression_context.get("trigger") or {})
    started = time.perf_counter()
    filled = render_bytes(kind, template_bytes(template), data, organization_id=ctx.organization.pk)
    render_ms = round((time.perf_counter() - started) * 1000, 1)
    name = document_name(params.get("filename"), template, kind)
    suffix, content_type = KINDS[kind][1], KINDS[kind][2]
    stem = name[: -len(suffix)]
    common = {"template_id": str(template.pk), "render_ms": render_ms}
    if ctx.dry_run:
        document = _store(
            ctx,
            template=template,
            node_key=node_key,
            name=name,
            data=filled,
            content_type=content_type,
            metadata={"render_ms": render_ms, "dry_run": True, "provider": "microsoft"},
        )
        return ActionResult(output=_fill_output(document, **common, dry_run=True), status=ExecutionStatus.READY)

    drive_id = str(params.get("drive_id") or "") or None
    folder = folder_path(params.get("folder"))
    remote_name = f"{stem} ({ctx.execution.pk}){suffix}"
    client = graph_client(ctx, connection)
    item = client.upload_file(
        path=f"{folder}/{remote_name}" if folder else remote_name,
        content=filled,
        content_type=content_type,
        drive_id=drive_id,
    )
    pdf = client.download_converted(item_id=str(item["id"]), format="pdf", drive_id=drive_id)
    if not pdf.startswith(b"%PDF-"):
        raise microsoft_error(
            "microsoft.bad_response",
            "the converted file is not a PDF",
            {"item_id": item["id"], "head": pdf[:40].decode("latin-1")},
            transient=True,
        )
    remote = {"drive_item_id": str(item["id"]), "web_url": str(item.get("webUrl") or ""), "remote_name": remote_name}
    document = _store(
        ctx,
        template=template,
        node_key=node_key,
        name=f"{stem}.pdf",
        data=pdf,
        content_type="application/pdf",
        metadata={"render_ms": render_ms, "provider": "microsoft", "drive_id": drive_id or "me", **remote},
    )
    return ActionResult(output=_fill_output(document, **common, **remote, dry_run=False), status=ExecutionStatus.READY)


def _fill_handler(kind: str, name: str):
    @_translated
    def handler(ctx: ActionContext, params: dict) -> ActionResult:
        try:
            return _fill(ctx, params, kind)
        except DocgError as exc:
            raise step_error(exc, language=ctx.language, node=ctx.node.get("label") or ctx.node.get("key", "")) from exc

    handler.__name__ = name
    return handler


fill_document = _fill_handler("docx", "fill_document")
fill_presentation = _fill_handler("pptx", "fill_presentation")


# --- Outlook ----------------------------------------------------------------------------


def _attachments(ctx: ActionContext, params: dict) -> list[GeneratedDocument]:
    documents = email_attachments(ctx=ctx, params=params)
    total = sum(d.size_bytes or 0 for d in documents)
    if total > MAX_ATTACHMENT_BYTES:
        raise microsoft_error(
            "microsoft.attachments_too_large",
            f"{total} bytes, at most {MAX_ATTACHMENT_BYTES}",
            {"total_bytes": total, "documents": [str(d.pk) for d in documents]},
        )
    return documents


def _address(pair: tuple[str, str]) -> dict:
    name, address = pair
    return {"emailAddress": {"address": address, **({"name": name} if name else {})}}


def build_message(params: dict, recipients: dict, documents: list[GeneratedDocument]) -> dict:
    """The Graph `message` resource for sendMail, attachments inline as fileAttachments."""
    message: dict[str, Any] = {
        "subject": " ".join(str(params["subject"]).split()),
        "body": {
            "contentType": "Text" if params.get("body_type") == "text" else "HTML",
            "content": str(params["body"]),
        },
        "toRecipients": [_address(p) for p in recipients["to"]],
    }
    if params.get("sender"):
        # Graph sends as another address only with "Send As" rights on it; preflight allows the mailbox's own.
        message["from"] = _address(parseaddr(str(params["sender"])))
    if recipients["cc"]:
        message["ccRecipients"] = [_address(p) for p in recipients["cc"]]
    if recipients["bcc"]:
        message["bccRecipients"] = [_address(p) for p in recipients["bcc"]]
    attachments = []
    for document in documents:
        with document.file.open("rb") as handle:
            content = handle.read()
        attachments.append(
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": document.name,
                "contentType": document.content_type or "application/octet-stream",
                "contentBytes": base64.b64encode(content).decode("ascii"),
            }
        )
    if attachments:
        message["attachments"] = attachments
    return message


@_translated
def send_mail(ctx: ActionContext, params: dict) -> ActionResult:
    connection = microsoft_connection(ctx)
    recipients = email_recipients(ctx=ctx, params=params)
    documents = _attachments(ctx, params)
    message = build_message(params, recipients, documents)
    summary = email_summary(recipients=recipients, subject=message["subject"], documents=documents)
    if ctx.dry_run:
        state = {"status": "dry_run", "provider": "outlook", "accepted": [], "refused": {}}
        return delivery_dry_run(summary=summary, state=state)
    try:
        graph_client(ctx, connection).send_mail(
            message=message, save_to_sent_items=bool(params.get("save_to_sent_items", True))
        )
    except DocgError as exc:
        message_human = translate(exc, ctx.language)
        delivery_failed(ctx=ctx, error=exc, message=message_human, identity={"provider": "outlook"})
        raise
    state = {
        "status": "sent",
        "provider": "outlook",
        "accepted": summary["to"] + summary["cc"] + summary["bcc"],
        "refused": {},
        "attempt": getattr(ctx.step, "attempt", 1),
        "sent_at": timezone.now().isoformat(),
    }
    delivery_record_sent(
        ctx=ctx,
        summary=summary,
        documents=documents,
        metadata={"provider": "outlook", "node_key": ctx.node.get("key", "")},
        email_target_id=ctx.idempotency_key,
    )
    output = {**summary, "dry_run": False, "delivery_state": state}
    return ActionResult(output=output, status=ExecutionStatus.SENT, delivery_state=state)
