"""Generated documents: bytes into Django's default storage, the row and its audit.

Storage knows nothing of runs: a step that stores a document tells its run
(log line, live event) through its ActionContext (`ctx.document_stored`).

The default storage is S3-compatible (AWS S3, DigitalOcean Spaces) when
AWS_STORAGE_BUCKET_NAME is set, else the local MEDIA_ROOT (config/settings/base.py).
Download links are short-lived either way: an S3 presigned URL, or a link to
our own file view signed with django.core.signing.
"""

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.urls import reverse
from django.utils.http import content_disposition_header

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.documents.models import GeneratedDocument, Template
from docg.orgs.models import Organization

_LINK_SALT = "docg.documents.file-link"


def _storage_kind(storage: Any) -> str:
    # `default_storage` is a LazyObject: its __class__ (not type()) is the real backend.
    return "filesystem" if isinstance(storage, FileSystemStorage) else storage.__class__.__name__


def document_store(
    *,
    organization: Organization,
    name: str,
    data: bytes,
    content_type: str,
    execution: Any = None,
    template: Template | None = None,
    node_key: str = "",
    metadata: dict[str, Any] | None = None,
) -> GeneratedDocument:
    """Store a generated file and record it (row, `document.generated` and `document.saved` audit)."""
    document = GeneratedDocument(
        organization=organization,
        execution=execution,
        template=template,
        node_key=node_key,
        name=name,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    # The upload happens before the transaction: no network I/O while rows are locked.
    document.file.save(name, ContentFile(data), save=False)
    # A document stored outside a step (a signed file fetched later) brings its run's id in metadata.
    correlation_id = getattr(execution, "correlation_id", None) or (metadata or {}).get("correlation_id")
    common = {"execution_id": str(getattr(execution, "pk", "") or ""), "node_key": node_key, "name": name}
    try:
        with transaction.atomic():
            document.save(force_insert=True)
            audit_log(
                organization=organization,
                action=AuditAction.DOCUMENT_GENERATED,
                target_type="document",
                target_id=document.pk,
                metadata={
                    **common,
                    "template_id": str(template.pk) if template else "",
                    "template_version": template.version if template else None,
                    **(metadata or {}),
                },
                correlation_id=correlation_id,
            )
            audit_log(
                organization=organization,
                action=AuditAction.DOCUMENT_SAVED,
                target_type="document",
                target_id=document.pk,
                metadata={
                    **common,
                    "storage": _storage_kind(document.file.storage),
                    "size_bytes": document.size_bytes,
                    "sha256": document.sha256,
                },
                correlation_id=correlation_id,
            )
    except BaseException:
        # The row never committed: do not leave an orphan file behind.
        document.file.storage.delete(document.file.name)
        raise
    return document


def document_for_step(*, execution: Any, node_key: str) -> GeneratedDocument | None:
    """The document an earlier attempt of this step already stored (a redelivered or retried step)."""
    if execution is None:
        return None
    return GeneratedDocument.objects.filter(execution=execution, node_key=node_key).order_by("created_at").first()


def document_download_link(*, document: GeneratedDocument, request: Any = None) -> dict[str, Any]:
    """A short-lived link to the file: presigned on S3, else signed for our own file view."""
    seconds = settings.DOCUMENT_LINK_SECONDS
    storage = document.file.storage
    if getattr(storage, "bucket_name", None):  # S3-compatible: the bucket serves the file itself
        disposition = content_disposition_header(True, document.name)
        url = storage.url(
            document.file.name,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": document.content_type},
            expire=seconds,
        )
    else:  # local disk (or any other backend): our own view streams it
        signature = signing.dumps(str(document.pk), salt=_LINK_SALT)
        path = reverse("document-file", kwargs={"pk": document.pk}) + "?" + urlencode({"sig": signature})
        url = request.build_absolute_uri(path) if request is not None else path
    return {"url": url, "expires_in": seconds}


def document_from_link(*, pk: Any, signature: str) -> GeneratedDocument | None:
    """The document a signed file link names, or None when the signature is wrong, for another id or expired."""
    try:
        signed_pk = signing.loads(signature, salt=_LINK_SALT, max_age=settings.DOCUMENT_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if signed_pk != str(pk):
        return None
    return GeneratedDocument.objects.filter(pk=pk).first()
