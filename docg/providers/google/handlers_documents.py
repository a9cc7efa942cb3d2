"""What `google_docs.fill_document` and `google_slides.fill_presentation` do.

Copy the template (a Google Doc or Slides file) into the destination folder,
replace its placeholders with one batchUpdate, export the copy as PDF and store
the PDF as a GeneratedDocument of the organization, so later steps (signature,
e-mail, Drive upload) take it by `document_id`.

A retry never makes a second copy: the copy carries the step's tag
(`<execution>:<node>`) in its Drive appProperties and an attempt first looks it
up; once the PDF is stored, a redelivered step returns it untouched.
replaceAllText is safe to repeat (the placeholders are gone after the first).
Like docx rendering, this happens in dry runs too: its documents are there to look at.
"""

import re
import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.storage import document_for_step
from docg.executions.choices import ExecutionStatus
from docg.providers.documents_io import pdf_store
from docg.providers.google.client import GoogleClient
from docg.providers.google.common import google_client, step_tag, translated
from docg.providers.google.messages import google_error

PDF = "application/pdf"
KINDS = {
    "document": ("Google Docs", "https://docs.google.com/document/d/{id}/edit"),
    "presentation": ("Google Slides", "https://docs.google.com/presentation/d/{id}/edit"),
}


def placeholder(key: str) -> str:
    """`name` → `{{name}}`; a key already written with braces is used as it is."""
    key = str(key).strip()
    return key if key.startswith("{{") else "{{" + key + "}}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def replace_text_requests(replacements: dict) -> list[dict]:
    return [
        {"replaceAllText": {"containsText": {"text": placeholder(key), "matchCase": True}, "replaceText": _text(value)}}
        for key, value in (replacements or {}).items()
    ]


def replace_image_requests(images: dict) -> list[dict]:
    return [
        {
            "replaceAllShapesWithImage": {
                "imageUrl": str(url),
                "imageReplaceMethod": "CENTER_INSIDE",
                "containsText": {"text": placeholder(key), "matchCase": True},
            }
        }
        for key, url in (images or {}).items()
    ]


def _occurrences(answer: dict) -> int:
    total = 0
    for reply in answer.get("replies") or []:
        for value in (reply or {}).values() if isinstance(reply, dict) else []:
            if isinstance(value, dict):
                total += int(value.get("occurrencesChanged") or 0)
    return total


def pdf_name(requested: Any, fallback: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "-", str(requested or fallback)).strip(" .-") or "document"
    name = name[:150]
    return name if name.lower().endswith(".pdf") else name + ".pdf"


def _output(document, **extra: Any) -> dict[str, Any]:
    return {
        "document_id": str(document.pk),
        "name": document.name,
        "size_bytes": document.size_bytes,
        "content_type": document.content_type,
        **extra,
    }


def _copy(ctx: ActionContext, client: GoogleClient, params: dict, kind: str, copy_name: str) -> tuple[dict, bool]:
    """The step's copy of the template: the one an earlier attempt made, else a new one. (file, reused)"""
    tag = step_tag(ctx)
    earlier = client.drive_find_step_file(step=tag)
    if earlier is not None and earlier.get("id"):
        return earlier, True
    template_id = str(params["template_file_id"]).strip()
    try:
        copy = client.drive_copy(
            file_id=template_id, name=copy_name, folder_id=str(params["folder_id"]).strip(), step=tag
        )
    except DocgError as exc:
        if exc.code == "google.not_found":
            # The copy names two ids; Drive answers 404 for either. Name both for the person fixing it.
            what = f"the {KINDS[kind][0]} template {template_id} (or the folder {params['folder_id']})"
            raise google_error("template.not_found", what, exc.details) from exc
        raise
    if not copy.get("id"):
        raise google_error("google.unavailable", "the copy has no id", {"answer": copy}, transient=True)
    return copy, False


def fill(ctx: ActionContext, params: dict, kind: str) -> ActionResult:
    node_key = ctx.node.get("key", "")
    stored = document_for_step(execution=ctx.execution, node_key=node_key)
    if stored is not None:
        # A redelivered or retried step: the PDF exists already.
        return ActionResult(output=_output(stored, reused=True), status=ExecutionStatus.READY)
    client = google_client(ctx)
    name = pdf_name(params.get("name"), f"{KINDS[kind][0]} {node_key}")
    copy_name = name[: -len(".pdf")]
    requests = replace_text_requests(params.get("replacements") or {})
    if kind == "presentation":
        requests += replace_image_requests(params.get("images") or {})
    started = time.perf_counter()
    with translated(ctx):
        copy, reused = _copy(ctx, client, params, kind, copy_name)
        file_id = str(copy["id"])
        answer: dict = {}
        if requests:
            if kind == "document":
                answer = client.docs_batch_update(document_id=file_id, requests=requests)
            else:
                answer = client.slides_batch_update(presentation_id=file_id, requests=requests)
        pdf = client.drive_export(file_id=file_id, mime_type=PDF)
    if not pdf.startswith(b"%PDF"):
        raise DocgError(
            "google.unavailable",
            ctx.say(_("Google did not return a PDF; docg will try again.")),
            {"file_id": file_id, "first_bytes": pdf[:40].decode("latin-1")},
            transient=True,
        )
    render_ms = round((time.perf_counter() - started) * 1000, 1)
    google = {
        "google_file_id": file_id,
        "google_file_url": KINDS[kind][1].format(id=file_id),
        "occurrences_changed": _occurrences(answer),
    }
    document = pdf_store(
        ctx,
        node_key=node_key,
        name=name,
        data=pdf,
        content_type=PDF,
        metadata={**google, "render_ms": render_ms, "dry_run": ctx.dry_run, "reused_copy": reused},
    )
    return ActionResult(
        output=_output(document, **google, render_ms=render_ms, dry_run=ctx.dry_run), status=ExecutionStatus.READY
    )


def fill_document(ctx: ActionContext, params: dict) -> ActionResult:
    return fill(ctx, params, "document")


def fill_presentation(ctx: ActionContext, params: dict) -> ActionResult:
    return fill(ctx, params, "presentation")
