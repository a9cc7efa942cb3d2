"""Rendering a template's bytes by kind, within the time budget: the entry point above the renderers."""

from typing import Any

from django.conf import settings

from docg.common.errors import DocgError
from docg.documents.rendering.docx import render_docx
from docg.documents.rendering.errors import render_error
from docg.documents.rendering.limits import RenderTimeout, time_budget
from docg.documents.rendering.pptx import render_pptx
from docg.documents.rendering.xlsx import render_xlsx


def render_bytes(kind: str, source: bytes, data: dict[str, Any], *, organization_id: Any = None) -> bytes:
    """Render within DOCUMENT_RENDER_TIMEOUT_SECONDS (default 60)."""
    budget = float(getattr(settings, "DOCUMENT_RENDER_TIMEOUT_SECONDS", 60))
    try:
        with time_budget(budget):
            if kind == "docx":
                return render_docx(source, data, organization_id=organization_id)
            if kind == "xlsx":
                return render_xlsx(source, data)
            return render_pptx(source, data)
    except RenderTimeout as exc:
        raise render_error("template.render_timeout", f"more than {budget:g} s") from exc
    except DocgError as exc:
        if exc.code == "template.render_timeout":
            exc.message = f"more than {budget:g} s"
        raise
