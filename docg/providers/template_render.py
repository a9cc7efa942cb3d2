"""`docx.render`, `pptx.render`, `xlsx.render`: fill a template of the run's organization and store the document.

Parameters: `template_id` (a template of the run's organization), `data` (the
object the template sees; default: the trigger's data), `filename` (already
rendered by the engine like every parameter). The document is stored and the
run goes `ready`; rendering happens in dry runs too (a dry run sends nothing, but
its documents are there to look at). Finding, reading and rendering templates
is docg.documents' (rendering/templates.py); this is the action around it.
"""

import time
from typing import Any

from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.registry import App, Operation, register
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.models import GeneratedDocument
from docg.documents.rendering.errors import render_error, step_error
from docg.documents.rendering.preflight import render_preflight
from docg.documents.rendering.render import render_bytes
from docg.documents.rendering.templates import KINDS, document_name, template_bytes, template_for
from docg.documents.storage import document_for_step, document_store

PARAMETERS = {
    "type": "object",
    "properties": {
        "template_id": {
            "type": "string",
            "minLength": 1,
            "title": _("Template"),
            "description": _("The template to fill."),
            # The editor offers the organization's templates of the step's kind instead of an id to type.
            "x-docg-picker": "template",
        },
        "data": {
            "type": "object",
            "title": _("Data"),
            "description": _("What the template sees; default: the trigger's data."),
            # The editor offers the chosen template's variables (its detected placeholders) to fill in.
            "x-docg-offers": "template_variables",
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
    ctx.document_stored(document)
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


def register_render_app(kind: str, *, name: Any, label: Any) -> None:
    """The app `kind` (docx, pptx, xlsx) with its one action, `render`, for templates docg fills itself."""
    app = register(App(slug=kind, name=name, description=_("Templates uploaded to docg, filled in by docg.")))
    app.action(
        Operation(
            name="render",
            label=label,
            description=_("Fill a template with the run's data and store the document; the run is then ready."),
            parameters=PARAMETERS,
            output=OUTPUT,
            handler=render_handler(kind),
            queue="documents",
            phase="render",
            inline=False,
            max_attempts=3,
            timeout_seconds=120,
            preflight=render_preflight(kind),
        )
    )
