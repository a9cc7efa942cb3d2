"""What the e-mail actions (smtp.send_email, gmail.send, outlook.send_mail) share.

Recipients are checked again when the step runs (preflight could not see
addresses an earlier step produces); attachments are the run organization's
GeneratedDocuments by id; the "document.sent" audit rows record what left docg.
The run's `delivery_state` is the engine's to write: a handler returns it in
`ActionResult.delivery_state`, or, for a failed send, in the error's technical
details under "delivery_state".
"""

import hashlib
import re
from email.message import EmailMessage

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.providers.documents_io import organization_document
from docg.providers.recipients import is_valid_email, split_addresses

Recipients = dict[str, list[tuple[str, str]]]
_ATTEMPT = re.compile(r":\d+$")


def email_recipients(*, ctx: ActionContext, params: dict) -> Recipients:
    """The (name, address) pairs of to/cc/bcc; an invalid address or an empty "to" is `delivery.invalid_email`."""
    found = {field: split_addresses(params.get(field)) for field in ("to", "cc", "bcc")}
    bad = [address for pairs in found.values() for _, address in pairs if not is_valid_email(address)]
    if bad or not found["to"]:
        shown = ", ".join(repr(b) for b in bad) or ctx.say(_("no recipient"))
        raise DocgError(
            "delivery.invalid_email",
            ctx.say(_("Invalid e-mail address: %(shown)s."), shown=shown),
            {"invalid": bad, "to": params.get("to")},
        )
    return found


def email_attachments(*, ctx: ActionContext, params: dict) -> list[GeneratedDocument]:
    """The documents named by `attachments` (one id or a list), each of the run's organization."""
    ids = params.get("attachments") or []
    ids = [ids] if isinstance(ids, str) else ids
    return [organization_document(ctx, i, purpose=pgettext_lazy("document purpose", "attach")) for i in ids]


def message_id_for(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one step: a receiver can recognise a retried send."""
    stable = _ATTEMPT.sub("", idempotency_key)
    domain = sender.rpartition("@")[2] or "docg.local"
    return f"<docg.{hashlib.sha256(stable.encode()).hexdigest()[:32]}@{domain}>"


def mime_attach(*, message: EmailMessage, documents: list[GeneratedDocument]) -> None:
    """Add each document to a MIME message as an attachment under its own name and content type."""
    for document in documents:
        with document.file.open("rb") as handle:
            data = handle.read()
        maintype, _, subtype = (document.content_type or "application/octet-stream").partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=document.name)


def email_summary(*, recipients: Recipients, subject: str, documents: list[GeneratedDocument]) -> dict:
    """The step output every e-mail action reports: addresses, subject and attachments."""
    return {
        "to": [a for _, a in recipients["to"]],
        "cc": [a for _, a in recipients["cc"]],
        "bcc": [a for _, a in recipients["bcc"]],
        "subject": subject,
        "attachments": [{"document_id": str(d.pk), "name": d.name} for d in documents],
    }


def delivery_dry_run(*, summary: dict, state: dict) -> ActionResult:
    """A dry run: nothing leaves docg and the run goes on as "running", not "sent"."""
    output = {**summary, "dry_run": True, "delivery_state": state}
    return ActionResult(output=output, status=ExecutionStatus.RUNNING, delivery_state=state)


def delivery_failed(*, ctx: ActionContext, error: DocgError, message: str, identity: dict) -> None:
    """Put the failed send's record ("retrying" when the error is transient) on the error, for the engine to keep."""
    error.details = {
        **(error.details or {}),
        "delivery_state": {
            "status": "retrying" if error.transient else "failed",
            **identity,
            "error_code": error.code,
            "error": message,
            "attempt": getattr(ctx.step, "attempt", 1),
        },
    }


def delivery_record_sent(
    *,
    ctx: ActionContext,
    summary: dict,
    documents: list[GeneratedDocument],
    metadata: dict,
    email_target_id: str,
) -> None:
    """One "document.sent" audit row per attachment (or one for the e-mail), in one transaction."""
    metadata = {
        **metadata,
        "to": summary["to"],
        "recipients": len(summary["to"]) + len(summary["cc"]) + len(summary["bcc"]),
        "subject": summary["subject"][:200],
    }
    # An e-mail without attachments is still a delivery worth a trace.
    targets = [("document", d.pk, {"name": d.name}) for d in documents] or [("email", email_target_id, {})]
    with transaction.atomic():
        for target_type, target_id, extra in targets:
            audit_log(
                organization=ctx.organization,
                action=AuditAction.DOCUMENT_SENT,
                target_type=target_type,
                target_id=target_id,
                metadata={**metadata, **extra},
                correlation_id=ctx.correlation_id,
            )
