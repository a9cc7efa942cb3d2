from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any, NamedTuple

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.common.memory import release_freed_memory
from docg.documents import lint, ooxml, placeholders
from docg.documents.models import Template, TemplateVersion
from docg.documents.rendering.clause_check import clause_lint, clause_tree
from docg.orgs.models import Organization, User


class Analysis(NamedTuple):
    variables: list[dict]  # input names with their locations
    placeholders: list[dict]  # every tag
    lint_errors: list[dict]  # what keeps the file from rendering: stored with the version
    lint_warnings: list[dict]  # clauses the organization does not have (yet): not stored, they come and go


def _clause_warnings(upload: Any, kind: str, found: list[dict], organization_id: Any) -> list[dict]:
    """include("…") naming a clause the organization does not have, or a cycle of clauses, with its location."""
    if kind != "docx" or organization_id is None or not any("include" in p["tag"] for p in found):
        return []
    upload.seek(0)
    source = upload.read()
    upload.seek(0)
    errors, _included = clause_tree(organization_id=organization_id, source=source)
    return clause_lint(errors)


def template_analyse(*, upload: Any, kind: str, organization_id: Any = None) -> Analysis:
    """What an inspected package reads and what is wrong with it; with `organization_id`, its clauses are checked."""
    try:
        analysis = placeholders.analyse(upload, kind)
    except DocgError:
        raise
    except Exception as exc:  # python-pptx / lxml on an odd but valid package: a 400, never a 500.
        raise DocgError(
            "template.unreadable",
            "docg could not read the text of this document; open it in Office, save it again and retry.",
            details={"reason": f"{type(exc).__name__}: {exc}"[:500]},
        )
    found = placeholders.placeholders(analysis)
    warnings = _clause_warnings(upload, kind, found, organization_id)
    return Analysis(placeholders.variables(found), found, lint.lint(analysis), warnings)


def _prepared_version(*, organization_id: Any, template: Template, by: User | None, upload: UploadedFile):
    """Inspect, analyse and store the upload; the returned version is not saved yet (its file is)."""
    try:
        return _inspected_version(organization_id=organization_id, template=template, by=by, upload=upload)
    finally:
        # The analysis parsed every XML part: hand the freed memory back, or RSS stays at the peak.
        release_freed_memory()


def _inspected_version(*, organization_id: Any, template: Template, by: User | None, upload: UploadedFile):
    package = ooxml.inspect(upload, upload.name or "")
    if template.kind and package.kind != template.kind:
        raise DocgError(
            "template.wrong_kind", f"This template is a {template.kind}; upload a .{template.kind} file as its version."
        )
    variables, found, lint_errors, warnings = template_analyse(
        upload=upload, kind=package.kind, organization_id=organization_id
    )
    version = TemplateVersion(
        organization_id=organization_id,
        template=template,
        size_bytes=package.size,
        sha256=package.sha256,
        variables=variables,
        placeholders=found,
        lint_errors=lint_errors,
        created_by=by,
    )
    version.lint_warnings = warnings  # handed back with the template, not stored
    # Stored before the transaction: storage may be S3, and network I/O holds no row lock.
    version.file.save(PurePath(upload.name or "template").name, upload, save=False)
    return package, version


def _point_at(template: Template, version: TemplateVersion) -> None:
    template.file.name = version.file.name
    template.version = version.number
    template.size_bytes = version.size_bytes
    template.sha256 = version.sha256
    template.variables = version.variables
    template.lint_errors = version.lint_errors


def _audit_version(template: Template, version: TemplateVersion, by: User | None) -> None:
    audit_log(
        organization=template.organization_id,
        action=AuditAction.TEMPLATE_VERSION_UPDATED,
        target_type="template",
        target_id=template.pk,
        metadata={
            "name": template.name,
            "version": version.number,
            "version_id": version.pk,
            "sha256": version.sha256,
            "lint_errors": len(version.lint_errors),
        },
        **user_actor(by),
    )


@contextmanager
def _discard_on_error(version: TemplateVersion) -> Iterator[None]:
    """Delete the stored file if the database work that should keep it fails."""
    try:
        yield
    except BaseException:
        if version.file.name:
            version.file.storage.delete(version.file.name)
        raise


def template_create(*, organization: Organization, by: User | None, name: str, upload: UploadedFile) -> Template:
    """Keep an uploaded .docx/.pptx/.xlsx as version 1 of a new template (refused uploads keep nothing).

    The template comes back with `lint_warnings`: its includes of clauses the organization does not have.
    """
    template = Template(organization=organization, name=name, kind="", created_by=by)
    package, version = _prepared_version(organization_id=organization.pk, template=template, by=by, upload=upload)
    template.kind = package.kind
    with _discard_on_error(version), transaction.atomic():
        version.number = 1
        _point_at(template, version)
        template.save()
        version.save()
        _audit_version(template, version, by)
    template.lint_warnings = version.lint_warnings
    return template


def template_add_version(*, template: Template, by: User | None, upload: UploadedFile) -> Template:
    """Upload a new file for a template; it becomes the current version (audit `template.version_updated`)."""
    _, version = _prepared_version(organization_id=template.organization_id, template=template, by=by, upload=upload)
    with _discard_on_error(version), transaction.atomic():
        # The lock serialises concurrent uploads: each gets the next number, none is lost.
        locked = Template.objects.select_for_update().get(pk=template.pk)
        version.template = locked
        version.number = locked.version + 1
        version.save()
        _point_at(locked, version)
        locked.save(update_fields=["file", "version", "size_bytes", "sha256", "variables", "lint_errors", "updated_at"])
        _audit_version(locked, version, by)
    locked.lint_warnings = version.lint_warnings
    return locked


@transaction.atomic
def template_delete(*, template: Template, by: User | None) -> None:
    """Remove a template, its versions and their stored files."""
    audit_log(
        organization=template.organization_id,
        action=AuditAction.TEMPLATE_DELETED,
        target_type="template",
        target_id=template.pk,
        metadata={"name": template.name, "version": template.version},
        **user_actor(by),
    )
    stored = set(template.versions.values_list("file", flat=True))
    stored.add(template.file.name)
    storage = template.file.storage
    template.delete()
    for name in sorted(n for n in stored if n):
        transaction.on_commit(lambda name=name: storage.delete(name))
