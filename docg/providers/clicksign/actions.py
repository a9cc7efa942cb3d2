"""The `clicksign` app: send a generated document to be signed through a ClickSign (API v3) envelope."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import output_schema, signature_parameters
from docg.providers.clicksign import checks, envelope_ops, handlers, signed_file  # noqa: F401  (they register)
from docg.providers.signature_preflight import signature_preflight

app = register(
    App(
        slug="clicksign",
        name="ClickSign",
        description=_("Electronic signatures with ClickSign envelopes: one signer per person, e-mail token."),
        auth=AuthKind.API_KEY,
    )
)

app.action(
    Operation(
        name="create_envelope",
        handler=handlers.create_envelope,
        label=_("Send for signature (ClickSign)"),
        description=_(
            "Create and activate a ClickSign envelope with a generated PDF and its signers; "
            "the run goes 'signing' until everyone signed."
        ),
        queue="signatures",
        preflight=signature_preflight(provider="clicksign", name="ClickSign"),
        phase="signature",
        max_attempts=4,
        timeout_seconds=120,
        parameters=signature_parameters(
            extra={
                "deadline": {
                    "type": "string",
                    "maxLength": 40,
                    "title": _("Deadline"),
                    "description": _("YYYY-MM-DD or an ISO date-time."),
                }
            }
        ),
        output=output_schema(
            envelope_id="string", document_key="string", signers="array", document_id="string", dry_run="boolean"
        ),
    )
)
