"""The `clicksign` app: send a generated document to be signed through a ClickSign (API v3) envelope."""

from docg.connectors.choices import AuthKind
from docg.connectors.clicksign import checks, handlers, signed_file  # noqa: F401  (checker and actor register)
from docg.connectors.registry import App, Operation, register

app = register(
    App(
        slug="clicksign",
        name="ClickSign",
        description="Electronic signatures with ClickSign envelopes: one signer per person, e-mail token.",
        auth=AuthKind.API_KEY,
    )
)

app.action(
    Operation(
        name="create_envelope",
        handler=handlers.create_envelope,
        label="Send for signature (ClickSign)",
        description="Create and activate a ClickSign envelope with a generated PDF and its signers; "
        "the run goes 'signing' until everyone signed.",
        queue="signatures",
        phase="signature",
        max_attempts=4,
        timeout_seconds=120,
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
                "deadline": {"type": "string", "maxLength": 40, "description": "YYYY-MM-DD or an ISO date-time."},
            },
            "required": ["document_id", "signers"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "envelope_id": {"type": "string"},
                "document_key": {"type": "string"},
                "signers": {"type": "array"},
                "document_id": {"type": "string"},
                "dry_run": {"type": "boolean"},
            },
        },
    )
)
