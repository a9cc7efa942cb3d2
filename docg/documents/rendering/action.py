"""The `docx.render` and `pptx.render` actions and their preflight contribution.

Parameters: `template_id` (a template of the run's organization), `data` (the
object the template sees; default: the trigger's data), `filename` (already
rendered by the engine like every parameter). The document is stored and the
run goes `ready`; rendering happens in dry runs too (a dry run sends nothing, but
its documents are there to look at).
"""

import re
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument, Template
from docg.documents.rendering.errors import render_error, step_error
from docg.documents.rendering.limits import RenderTimeout, time_budget
from docg.documents.storage import document_for_step, document_store

KINDS = {
    "docx": ("Word", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pptx": ("PowerPoint", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
PARAMETERS = {
    "type": "object",
    "properties": {
        "template_id": {
            "type": "string",
            "minLength": 1,
            "title": _("Template"),
            "description": _("The template (its id) to fill."),
        },
        "data": {
            "type": "object",
            "title": _("Data"),
            "description": _("What the template sees; default: the trigger's data."),
        },
        "filename": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("File name")},
    },
    "required": ["template_id"],
    "additionalProperties": False,
}
OUTPUT = {
    "type": "object",
    "properties": {
        "document_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "size_bytes": {"type": "integer"},
        "content_type": {"type": "string"},
    },
}

# Template files are immutable per version: keep recent ones in memory (bounded by bytes).
_CACHE_BYTES = 64 * 1024 * 1024
_cache: OrderedDict[tuple, bytes] = OrderedDict()
_cache_lock = threading.Lock()


def template_for(*, organization: Any, template_id: Any, kind: str) -> Template:
    try:
        pk = uuid.UUID(str(template_id))
    except ValueError:
        raise render_error("template.not_found", str(template_id)[:80], template_id=str(template_id)[:80])
    template = Template.objects.filter(organization=organization, pk=pk).first()
    if template is None:
        raise render_error("template.not_found", str(pk), template_id=str(pk))
    if template.kind != kind:
        raise render_error("template.wrong_kind", KINDS[kind][0], template_id=str(pk), kind=template.kind)
    return template


def template_bytes(template: Template) -> bytes:
    """The template's file; DocgError `template.unreadable` (transient: storage may come back)."""
    key = (template.pk, template.version, template.sha256, template.file.name)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    if not template.file:
        raise render_error("template.unreadable", "the template has no file", template_id=str(template.pk))
    try:
        with template.file.open("rb") as handle:
            data = handle.read()
    except Exception as exc:  # any storage backend's failure (disk, S3)
        raise render_error(
            "template.unreadable", f"{type(exc).__name__}: {exc}", transient=True, template_id=str(template.pk)
        ) from exc
    with _cache_lock:
        _cache[key] = data
        while sum(len(v) for v in _cache.values()) > _CACHE_BYTES and len(_cache) > 1:
            _cache.popitem(last=False)
    return data


def render_bytes(kind: str, source: bytes, data: dict[str, Any], *, organization_id: Any = None) -> bytes:
    """Render within DOCUMENT_RENDER_TIMEOUT_SECONDS (default 60)."""
    from docg.documents.rendering.docx import render_docx
    from docg.documents.rendering.pptx import render_pptx

    budget = float(getattr(settings, "DOCUMENT_RENDER_TIMEOUT_SECONDS", 60))
    try:
        with time_budget(budget):
            if kind == "docx":
                return render_docx(source, data, organization_id=organization_id)
            return render_pptx(source, data)
    except RenderTimeout as exc:
        raise render_error("template.render_timeout", f"more than {budget:g} s") from exc
    except DocgError as exc:
        if exc.code == "template.render_timeout":
            exc.message = f"more than {budget:g} s"
        raise


def document_name(requested: Any, template: Template, kind: str) -> str:
    """A safe file name: no path separators or control characters, the right extension."""
    suffix = KINDS[kind][1]
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "-", str(requested or template.name)).strip(" .-") or "document"
    name = name[:150]
    return name if name.lower().endswith(suffix) else name + suffix


def _output(document: GeneratedDocument, **extra: Any) -> dict[str, Any]:
    return {
        "document_id": str(document.pk),
        "name": document.name,
        "size_bytes": document.size_bytes,
        "content_type": document.content_type,
        **extra,
    }


def _render(ctx: ActionContext, params: dict, kind: str) -> ActionResult:
    node_key = ctx.node.get("key", "")
    earlier = document_for_step(execution=ctx.execution, node_key=node_key)
    if earlier is not None:
        # A redelivered or retried step: the document exists already; generate it once.
        return ActionResult(output=_output(earlier, reused=True), status="ready")
    template = template_for(organization=ctx.organization, template_id=params["template_id"], kind=kind)
    data = params["data"] if "data" in params else (ctx.expression_context.get("trigger") or {})
    source = template_bytes(template)
    started = time.perf_counter()
    rendered = render_bytes(kind, source, data, organization_id=ctx.organization.pk)
    render_ms = round((time.perf_counter() - started) * 1000, 1)
    name = document_name(params.get("filename"), template, kind)
    try:
        document = document_store(
            organization=ctx.organization,
            execution=ctx.execution,
            template=template,
            node_key=node_key,
            name=name,
            data=rendered,
            content_type=KINDS[kind][2],
            metadata={"render_ms": render_ms, "dry_run": ctx.dry_run},
        )
    except DatabaseError:
        raise
    except Exception as exc:  # the storage backend (disk full, S3 unreachable): try again later
        raise render_error("storage.unavailable", f"{type(exc).__name__}: {exc}", transient=True) from exc
    return ActionResult(
        output=_output(document, template_id=str(template.pk), render_ms=render_ms, dry_run=ctx.dry_run),
        status="ready",
    )


def render_handler(kind: str):
    def handler(ctx: ActionContext, params: dict) -> ActionResult:
        try:
            return _render(ctx, params, kind)
        except DocgError as exc:
            node = ctx.node.get("label") or ctx.node.get("key", "")
            raise step_error(exc, language=ctx.language, node=node) from exc

    handler.__name__ = f"{kind}_render"
    return handler
