"""What `pdf.convert` does. The declaration (name, schema, queue) is in actions.py."""

import re
from pathlib import PurePath

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.documents.pdf import PdfConversionError, convert_to_pdf
from docg.documents.storage import document_for_step
from docg.executions.choices import ExecutionStatus
from docg.providers.documents_io import organization_document, pdf_store

CONVERSION_TIMEOUT_SECONDS = 60
PDF = "application/pdf"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def source_document(ctx: ActionContext, document_id: str) -> GeneratedDocument:
    """A generated document of the run's organization (another organization's id is "not found")."""
    return organization_document(ctx, document_id, purpose=pgettext_lazy("document purpose", "convert"))


def _result(document: GeneratedDocument, source: GeneratedDocument) -> ActionResult:
    output = {
        "document_id": str(document.pk),
        "name": document.name,
        "size_bytes": document.size_bytes,
        "source_document_id": str(source.pk),
    }
    return ActionResult(output=output, status=ExecutionStatus.READY)


def _pdf_name(source: GeneratedDocument, wanted: str | None) -> str:
    """A safe file name ending in .pdf: the requested one, else the source's with its suffix swapped."""
    name = str(wanted) if wanted else PurePath(source.name or "document").stem
    name = _UNSAFE.sub("-", name).strip(" .-")[:150] or "document"
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"


def convert(ctx: ActionContext, params: dict) -> ActionResult:
    source = source_document(ctx, params["document_id"])
    # A retry after the PDF was stored (the worker died before recording the step) reuses it:
    # the document is generated exactly once per step.
    done = document_for_step(execution=ctx.execution, node_key=ctx.step.node_key)
    if done is not None:
        return _result(done, source)
    with source.file.open("rb") as handle:
        data = handle.read()
    try:
        pdf = convert_to_pdf(data, source.name, timeout=CONVERSION_TIMEOUT_SECONDS)
    except PdfConversionError as exc:
        raise DocgError(
            "pdf.conversion_failed",
            ctx.say(_("'%(name)s' could not be converted to PDF: %(exc)s"), name=source.name, exc=exc),
            {"document_id": str(source.pk), **exc.details},
            transient=exc.transient,
        ) from exc
    document = pdf_store(
        ctx,
        template=source.template,
        node_key=ctx.step.node_key,
        name=_pdf_name(source, params.get("filename")),
        data=pdf,
        content_type=PDF,
        metadata={"format": "pdf", "source_document_id": str(source.pk), "dry_run": ctx.dry_run},
    )
    return _result(document, source)
