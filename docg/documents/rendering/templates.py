"""An organization's Word / PowerPoint / Excel templates: found, read (cached in memory), rendered within a budget.

The actions that use them are provider code (docg/providers/template_render.py
for `docx.render` / `pptx.render` / `xlsx.render`, docg/providers/microsoft for the fill actions).
"""

import re
import threading
import uuid
from collections import OrderedDict
from typing import Any

from docg.documents.models import Template
from docg.documents.rendering.errors import render_error

KINDS = {
    "docx": ("Word", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pptx": ("PowerPoint", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xlsx": ("Excel", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
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


def document_name(requested: Any, template: Template, kind: str) -> str:
    """A safe file name: no path separators or control characters, the right extension."""
    suffix = KINDS[kind][1]
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "-", str(requested or template.name)).strip(" .-") or "document"
    name = name[:150]
    return name if name.lower().endswith(suffix) else name + suffix
