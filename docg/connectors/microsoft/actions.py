"""The Microsoft 365 apps: `microsoft_word`, `microsoft_powerpoint` (fill + PDF through Graph) and `outlook`."""

from docg.connectors.choices import AuthKind
from docg.connectors.microsoft import handlers
from docg.connectors.microsoft.client import CONVERT_TIMEOUT_SECONDS, TIMEOUT_SECONDS
from docg.connectors.microsoft.preflight import fill_preflight, send_mail_preflight
from docg.connectors.registry import App, Operation, register


def _fill_parameters(what: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "template_id": {"type": "string", "minLength": 1, "description": f"The {what} template (its id) to fill."},
            "data": {"type": "object", "description": "What the template sees; default: the trigger's data."},
            "filename": {"type": "string", "minLength": 1, "maxLength": 200},
            "folder": {
                "type": "string",
                "maxLength": 400,
                "description": f"Drive folder for the filled file (default '{handlers.DEFAULT_FOLDER}').",
            },
            "drive_id": {
                "type": "string",
                "maxLength": 200,
                "description": "A SharePoint document library's drive id; default: the account's OneDrive.",
            },
        },
        "required": ["template_id"],
        "additionalProperties": False,
    }


FILL_OUTPUT = {
    "type": "object",
    "properties": {
        "document_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "size_bytes": {"type": "integer"},
        "content_type": {"type": "string"},
        "template_id": {"type": "string"},
        "drive_item_id": {"type": "string"},
        "web_url": {"type": "string"},
        "remote_name": {"type": "string"},
        "dry_run": {"type": "boolean"},
    },
}

# Render locally (≤ 60 s), upload, and wait for Graph's conversion.
_FILL_TIMEOUT = int(60 + TIMEOUT_SECONDS + CONVERT_TIMEOUT_SECONDS * 2)


def _fill_operation(name: str, label: str, kind_label: str, handler, kind: str) -> Operation:
    return Operation(
        name=name,
        handler=handler,
        preflight=fill_preflight(kind),
        label=label,
        description=(
            f"Fill a {kind_label} template with the run's data, upload it to OneDrive or SharePoint and store "
            "Microsoft's PDF of it; the run goes 'ready'."
        ),
        parameters=_fill_parameters(kind_label),
        output=FILL_OUTPUT,
        queue="documents",
        phase="render",
        max_attempts=4,
        timeout_seconds=_FILL_TIMEOUT,
    )


word = register(
    App(
        slug="microsoft_word",
        name="Microsoft Word",
        description="Word templates filled by docg, converted to PDF by Microsoft 365 (OneDrive / SharePoint).",
        auth=AuthKind.OAUTH2,
    )
)
word.action(
    _fill_operation("fill_document", "Fill a Word document (Microsoft 365)", "Word", handlers.fill_document, "docx")
)

powerpoint = register(
    App(
        slug="microsoft_powerpoint",
        name="Microsoft PowerPoint",
        description="PowerPoint templates filled by docg, converted to PDF by Microsoft 365 (OneDrive / SharePoint).",
        auth=AuthKind.OAUTH2,
    )
)
powerpoint.action(
    _fill_operation(
        "fill_presentation",
        "Fill a PowerPoint presentation (Microsoft 365)",
        "PowerPoint",
        handlers.fill_presentation,
        "pptx",
    )
)

# A list of addresses, or one string with commas or semicolons ("a@x.com, Ana <b@y.com>").
_ADDRESSES = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "E-mail addresses: a list, or a string separated by commas; expressions allowed.",
}

outlook = register(
    App(
        slug="outlook",
        name="Outlook",
        description="Send e-mail from a Microsoft 365 / Outlook.com mailbox through Microsoft Graph.",
        auth=AuthKind.OAUTH2,
    )
)
outlook.action(
    Operation(
        name="send_mail",
        handler=handlers.send_mail,
        preflight=send_mail_preflight,
        label="Send e-mail (Outlook)",
        description="Send an e-mail with generated documents attached from the connected Outlook mailbox.",
        queue="emails",
        phase="delivery",
        status_running="sending",
        max_attempts=4,
        timeout_seconds=int(3 * TIMEOUT_SECONDS),
        parameters={
            "type": "object",
            "properties": {
                "to": {**_ADDRESSES, "minLength": 1, "minItems": 1},
                "cc": _ADDRESSES,
                "bcc": _ADDRESSES,
                "subject": {"type": "string", "minLength": 1, "maxLength": 500},
                "body": {"type": "string"},
                "body_type": {"type": "string", "enum": ["html", "text"], "default": "html"},
                "attachments": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 20}],
                    "description": "Ids of generated documents, e.g. ['{{ steps.fill.document_id }}'].",
                },
                "save_to_sent_items": {"type": "boolean", "default": True},
            },
            "required": ["to", "subject", "body"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
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
