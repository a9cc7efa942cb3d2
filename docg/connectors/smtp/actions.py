"""The `smtp` app: send e-mail (with generated documents attached) through the organization's SMTP server."""

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.smtp import handlers
from docg.connectors.smtp.preflight import send_email_preflight

app = register(
    App(
        slug="smtp",
        name="SMTP e-mail",
        description="Send e-mail through your own mail server (STARTTLS, SSL or plain).",
        auth=AuthKind.BASIC,
    )
)

# A list of addresses, or one string with commas or semicolons ("a@x.com, Ana <b@y.com>").
_ADDRESSES = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "E-mail addresses: a list, or a string separated by commas; expressions allowed.",
}

app.action(
    Operation(
        name="send_email",
        handler=handlers.send_email,
        preflight=send_email_preflight,
        label="Send e-mail",
        description="Send a text + HTML e-mail, with generated documents attached, to to/cc/bcc recipients.",
        queue="emails",
        phase="delivery",
        status_running="sending",
        max_attempts=4,
        timeout_seconds=3 * handlers.SMTP_TIMEOUT_SECONDS,
        parameters={
            "type": "object",
            "properties": {
                "to": {**_ADDRESSES, "minLength": 1, "minItems": 1},
                "cc": _ADDRESSES,
                "bcc": _ADDRESSES,
                "subject": {"type": "string", "minLength": 1, "maxLength": 500},
                "text": {"type": "string"},
                "html": {"type": "string"},
                "attachments": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 20}],
                    "description": "Ids of generated documents, e.g. ['{{ steps.pdf.document_id }}'].",
                },
            },
            "required": ["to", "subject", "text"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "message_id": {"type": "string"},
                "to": {"type": "array"},
                "cc": {"type": "array"},
                "bcc": {"type": "array"},
                "subject": {"type": "string"},
                "attachments": {"type": "array"},
                "dry_run": {"type": "boolean"},
                "delivery_state": {"type": "object"},
            },
        },
    )
)
