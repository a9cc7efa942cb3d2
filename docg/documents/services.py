import hashlib
import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.api.exceptions import ApiError
from docg.documents.choices import TemplateKind
from docg.documents.models import Template
from docg.orgs.models import Organization, User

_KIND_BY_SUFFIX = {".docx": TemplateKind.DOCX, ".pptx": TemplateKind.PPTX}
_MACRO_SUFFIXES = {".docm", ".pptm", ".dotm", ".potm"}


def template_kind_for(filename: str) -> str:
    """The template kind of an uploaded file, from its name; refuses anything but .docx and .pptx."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in _MACRO_SUFFIXES:
        raise ApiError("template.macros_refused", "Files with macros (.docm, .pptm) are refused.")
    kind = _KIND_BY_SUFFIX.get(suffix)
    if kind is None:
        raise ApiError("template.unsupported_type", "Upload a Word (.docx) or PowerPoint (.pptx) file.")
    return kind


def _digest(upload: UploadedFile) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


@transaction.atomic
def template_create(*, organization: Organization, by: User | None, name: str, upload: UploadedFile) -> Template:
    """Keep an uploaded .docx/.pptx as version 1 of a new template."""
    kind = template_kind_for(upload.name or "")
    if upload.size > settings.TEMPLATE_MAX_UPLOAD_BYTES:
        raise ApiError(
            "template.too_large",
            f"The file is larger than {settings.TEMPLATE_MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            status_code=413,
        )
    if not zipfile.is_zipfile(upload):
        raise ApiError("template.not_ooxml", "The file is not a valid Office document (it is not a zip package).")
    upload.seek(0)
    template = Template(organization=organization, name=name, kind=kind, size_bytes=upload.size, created_by=by)
    template.sha256 = _digest(upload)
    template.file.save(PurePath(upload.name).name, upload, save=False)
    template.save()
    audit_log(
        organization=organization,
        action=AuditAction.TEMPLATE_VERSION_UPDATED,
        target_type="template",
        target_id=template.pk,
        metadata={"name": name, "version": template.version, "sha256": template.sha256},
        **user_actor(by),
    )
    return template


@transaction.atomic
def template_delete(*, template: Template, by: User | None) -> None:
    """Remove a template and its stored file."""
    audit_log(
        organization=template.organization_id,
        action=AuditAction.TEMPLATE_DELETED,
        target_type="template",
        target_id=template.pk,
        metadata={"name": template.name, "version": template.version},
        **user_actor(by),
    )
    stored = template.file.name
    storage = template.file.storage
    template.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
