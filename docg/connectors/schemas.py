"""Parameter and output schema pieces the connectors' actions share (what `GET /api/v1/apps` shows).

Property order is kept as each builder lists it: the dashboard draws a step's
form in that order.
"""

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

DOCUMENT_ID = {
    "type": "string",
    "minLength": 1,
    "title": _("Document"),
    "description": _("A generated document's id."),
}

# A list of addresses, or one string with commas or semicolons ("a@x.com, Ana <b@y.com>").
ADDRESSES = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": _("E-mail addresses: a list, or a string separated by commas; expressions allowed."),
}

SIGNERS = {
    "type": "array",
    "title": _("Signers"),
    "minItems": 1,
    "maxItems": 50,
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("Name")},
            "email": {"type": "string", "minLength": 3, "maxLength": 254, "title": _("E-mail")},
        },
        "required": ["name", "email"],
        "additionalProperties": False,
    },
}


def parameters_schema(*, properties: dict[str, Any], required: list[str]) -> dict:
    """An action's parameters: these properties and no others."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def output_schema(**types: str) -> dict:
    """An action's output: each named field with its JSON type, e.g. output_schema(url="string")."""
    return {"type": "object", "properties": {name: {"type": kind} for name, kind in types.items()}}


def document_output(**types: str) -> dict:
    """What an action that stores a GeneratedDocument reports: the document, then these fields."""
    schema = output_schema(name="string", size_bytes="integer", content_type="string", **types)
    return {**schema, "properties": {"document_id": {"type": "string", "format": "uuid"}, **schema["properties"]}}


def attachments_schema(*, example_step: str) -> dict:
    """Generated documents to attach: one id or a list of up to 20."""
    return {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 20}],
        "title": _("Attachments"),
        "description": format_lazy(
            _("Ids of generated documents, e.g. {example}."),
            example=f"['{{{{ steps.{example_step}.document_id }}}}']",
        ),
    }


def email_parameters(
    *, body: dict[str, dict], after: dict[str, dict] | None = None, to_nonempty: bool, example_step: str
) -> dict:
    """to/cc/bcc/subject, then `body`'s fields (the first is required), attachments, then `after`'s fields."""
    to = {**ADDRESSES, "minLength": 1, "minItems": 1} if to_nonempty else ADDRESSES
    properties = {
        "to": {**to, "title": _("Recipients")},
        "cc": {**ADDRESSES, "title": _("Cc")},
        "bcc": {**ADDRESSES, "title": _("Bcc")},
        "subject": {"type": "string", "minLength": 1, "maxLength": 500, "title": _("Subject")},
        "sender": {
            "type": "string",
            "maxLength": 320,
            "title": _("From"),
            "description": _("The sender address; empty sends from the connection's own address."),
        },
        **body,
        "attachments": attachments_schema(example_step=example_step),
        **(after or {}),
    }
    return parameters_schema(properties=properties, required=["to", "subject", next(iter(body))])


def email_output(*, ids: tuple[str, ...] = ()) -> dict:
    """What an e-mail action reports: its provider ids (strings), then recipients, subject and delivery state."""
    return output_schema(
        **dict.fromkeys(ids, "string"),
        to="array",
        cc="array",
        bcc="array",
        subject="string",
        attachments="array",
        dry_run="boolean",
        delivery_state="object",
    )


def signature_parameters(*, extra: dict[str, dict] | None = None) -> dict:
    """A signature request: the generated document, its signers, the envelope's name and `extra` fields."""
    properties = {
        "document_id": DOCUMENT_ID,
        "signers": SIGNERS,
        "name": {"type": "string", "maxLength": 255, "title": _("Envelope name")},
        **(extra or {}),
    }
    return parameters_schema(properties=properties, required=["document_id", "signers"])
