"""What `smtp.send_email` does. The declaration (name, schema, queue) is in actions.py."""

from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.executions.choices import ExecutionStatus
from docg.providers.email_delivery import (  # message_id_for: imported from here too
    delivery_dry_run,
    delivery_failed,
    delivery_record_sent,
    email_attachments,
    email_recipients,
    email_summary,
    message_id_for,
    mime_attach,
)
from docg.providers.recipients import is_valid_email
from docg.providers.sender_check import step_sender
from docg.providers.smtp.client import SmtpClient, SmtpSettings, translate

SMTP_TIMEOUT_SECONDS = 30


def _settings(ctx: ActionContext) -> SmtpSettings:
    connection = ctx.active_connection(Provider.SMTP, "SMTP")
    # Non-secret settings may sit in `config`; the encrypted credentials win.
    return SmtpSettings.from_credentials(
        {**(connection.config or {}), **(connection.credentials or {})}, timeout=SMTP_TIMEOUT_SECONDS
    )


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
    mime_attach(message=message, documents=documents)
    return message


def _envelope(recipients: dict[str, list[tuple[str, str]]]) -> list[str]:
    seen: dict[str, str] = {}
    for pairs in recipients.values():
        for _name, address in pairs:
            seen.setdefault(address.lower(), address)
    return list(seen.values())


def send_email(ctx: ActionContext, params: dict) -> ActionResult:
    settings = _settings(ctx)
    sender = step_sender(params, settings.from_email)
    envelope_from = parseaddr(sender)[1]
    if not is_valid_email(envelope_from):
        raise DocgError(
            "smtp.misconfigured",
            ctx.say(_("The SMTP connection's sender address is not valid (%(sender)s)."), sender=repr(sender)),
            {"from_email": sender},
        )
    recipients = email_recipients(ctx=ctx, params=params)
    documents = email_attachments(ctx=ctx, params=params)
    message = build_message(ctx, params, sender=sender, recipients=recipients, documents=documents)
    envelope = _envelope(recipients)
    summary = {
        "message_id": message["Message-ID"],
        "from": sender,
        **email_summary(recipients=recipients, subject=message["Subject"], documents=documents),
    }
    if ctx.dry_run:
        state = {"status": "dry_run", "message_id": summary["message_id"], "accepted": [], "refused": {}}
        return delivery_dry_run(summary=summary, state=state)
    try:
        delivery = SmtpClient(settings).send(message, sender=envelope_from, recipients=envelope)
    except DocgError as exc:
        exc.human = translate(exc, ctx.language)
        identity = {"message_id": summary["message_id"]}
        delivery_failed(ctx=ctx, error=exc, message=exc.human, identity=identity)
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
    delivery_record_sent(
        ctx=ctx,
        summary=summary,
        documents=documents,
        metadata={"message_id": summary["message_id"], "node_key": getattr(ctx.step, "node_key", "")},
        email_target_id=summary["message_id"],
    )
    return ActionResult(output={**summary, "delivery_state": state}, status=ExecutionStatus.SENT, delivery_state=state)
