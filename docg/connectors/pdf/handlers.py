"""What `pdf.convert` does. The declaration (name, schema, queue) is in actions.py."""

import hashlib
import uuid
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.connectors.errors import ConnectorError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.documents.pdf import PdfConversionError, convert_to_pdf
from docg.executions.choices import ExecutionStatus

CONVERSION_TIMEOUT_SECONDS = 60
PDF = "application/pdf"


def _say(ctx: ActionContext, english: str, portuguese: str) -> str:
    return portuguese if (ctx.language or "").lower().startswith("pt") else english


def source_document(ctx: ActionContext, document_id: str) -> GeneratedDocument:
    """A generated document of the run's organization (another organization's id is "not found")."""
    try:
        key = uuid.UUID(str(document_id))
    except ValueError:
        key = None
    document = GeneratedDocument.objects.filter(organization=ctx.organization, pk=key).first() if key else None
    if document is None:
        raise ConnectorError(
            "document.not_found",
            _say(
                ctx,
                f"The document to convert ({document_id}) does not exist.",
                f"O documento a converter ({document_id}) não existe.",
            ),
            {"document_id": str(document_id)},
        )
    return document


def _result(document: GeneratedDocument, source: GeneratedDocument) -> ActionResult:
    output = {
        "document_id": str(document.pk),
        "name": document.name,
        "size_bytes": document.size_bytes,
        "source_document_id": str(source.pk),
    }
    return ActionResult(output=output, status=ExecutionStatus.READY)


def _pdf_name(source: GeneratedDocument, wanted: str | None) -> str:
    if wanted:
        name = PurePath(wanted).name or "document"
        return name if name.lower().endswith(".pdf") else f"{name}.pdf"
    return f"{PurePath(source.name or 'document').stem or 'document'}.pdf"


def convert(ctx: ActionContext, params: dict) -> ActionResult:
    source = source_document(ctx, params["document_id"])
    # A retry after the PDF was stored (the worker died before recording the step) reuses it:
    # the document is generated exactly once per step.
    done = GeneratedDocument.objects.filter(
        organization=ctx.organization, execution=ctx.execution, node_key=ctx.step.node_key, content_type=PDF
    ).first()
    if done is not None:
        return _result(done, source)
    with source.file.open("rb") as handle:
        data = handle.read()
    try:
        pdf = convert_to_pdf(data, source.name, timeout=CONVERSION_TIMEOUT_SECONDS)
    except PdfConversionError as exc:
        raise ConnectorError(
            "pdf.conversion_failed",
            _say(
                ctx,
                f"'{source.name}' could not be converted to PDF: {exc}",
                f"Não foi possível converter '{source.name}' para PDF: {exc}",
            ),
            {"document_id": str(source.pk), **exc.details},
            transient=exc.transient,
        ) from exc
    document = GeneratedDocument(
        organization=ctx.organization,
        execution=ctx.execution,
        template=source.template,
        node_key=ctx.step.node_key,
        name=_pdf_name(source, params.get("filename")),
        content_type=PDF,
        size_bytes=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
    )
    # The file goes to storage (maybe S3) before the transaction: no network I/O while holding locks.
    document.file.save(document.name, ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            document.save(force_insert=True)
            audit_log(
                organization=ctx.organization,
                action=AuditAction.DOCUMENT_GENERATED,
                target_type="document",
                target_id=document.pk,
                metadata={
                    "name": document.name,
                    "format": "pdf",
                    "size_bytes": document.size_bytes,
                    "sha256": document.sha256,
                    "source_document_id": str(source.pk),
                    "node_key": ctx.step.node_key,
                    "dry_run": ctx.dry_run,
                },
                correlation_id=ctx.correlation_id,
            )
    except Exception:
        document.file.delete(save=False)  # no row points at it
        raise
    return _result(document, source)
