"""The `zapsign` app: send a generated document to be signed through ZapSign."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import output_schema, signature_parameters
from docg.providers.signature_preflight import signature_preflight
from docg.providers.zapsign import checks, envelope_ops, handlers, signed_file  # noqa: F401  (they register)

app = register(
    App(
        slug="zapsign",
        name="ZapSign",
        description=_("Electronic signatures with ZapSign: one signing request per signer."),
        auth=AuthKind.API_KEY,
    )
)

app.action(
    Operation(
        name="create_document",
        handler=handlers.create_document,
        label=_("Send for signature (ZapSign)"),
        description=_("Create a ZapSign document from a generated PDF with its signers; the run goes 'signing'."),
        queue="signatures",
        preflight=signature_preflight(provider="zapsign", name="ZapSign"),
        phase="signature",
        max_attempts=4,
        timeout_seconds=90,
        parameters=signature_parameters(),
        output=output_schema(envelope_id="string", signers="array", document_id="string", dry_run="boolean"),
    )
)
