"""The `zapsign` app: send a generated document to be signed through ZapSign."""

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.zapsign import checks, handlers, signed_file  # noqa: F401  (checker and actor register)

app = register(
    App(
        slug="zapsign",
        name="ZapSign",
        description="Electronic signatures with ZapSign: one signing request per signer.",
        auth=AuthKind.API_KEY,
    )
)

app.action(
    Operation(
        name="create_document",
        handler=handlers.create_document,
        label="Send for signature (ZapSign)",
        description="Create a ZapSign document from a generated PDF with its signers; the run goes 'signing'.",
        queue="signatures",
        phase="signature",
        max_attempts=4,
        timeout_seconds=90,
        parameters={
            "type": "object",
            "properties": {
                "document_id": {"type": "string", "minLength": 1, "description": "A generated document's id."},
                "signers": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 50,
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 200},
                            "email": {"type": "string", "minLength": 3, "maxLength": 254},
                        },
                        "required": ["name", "email"],
                        "additionalProperties": False,
                    },
                },
                "name": {"type": "string", "maxLength": 255},
            },
            "required": ["document_id", "signers"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "envelope_id": {"type": "string"},
                "signers": {"type": "array"},
                "document_id": {"type": "string"},
                "dry_run": {"type": "boolean"},
            },
        },
    )
)
