"""The `pdf` app: turn a generated office document into a PDF with the warm LibreOffice pool."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.registry import App, Operation, register
from docg.providers.pdf import handlers

app = register(App(slug="pdf", name="PDF", description=_("Convert generated documents to PDF (LibreOffice).")))

app.action(
    Operation(
        name="convert",
        handler=handlers.convert,
        label=_("Convert to PDF"),
        description=_(
            "Convert a generated DOCX, PPTX or XLSX (usually {{ steps.render.document_id }}) to a PDF document."
        ),
        queue="documents",
        phase="render",
        # Two conversion attempts (warm, then cold) fit in one lease.
        timeout_seconds=2 * handlers.CONVERSION_TIMEOUT_SECONDS + 30,
        parameters={
            "type": "object",
            "properties": {
                "document_id": {"type": "string", "format": "uuid", "minLength": 1, "title": _("Document")},
                "filename": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("File name")},
            },
            "required": ["document_id"],
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "document_id": {"type": "string"},
                "name": {"type": "string"},
                "size_bytes": {"type": "integer"},
                "source_document_id": {"type": "string"},
            },
        },
    )
)
