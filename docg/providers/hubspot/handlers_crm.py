"""What the HubSpot write-back actions do: set record properties, move a deal, note a document on a deal.

The declarations (names, schemas, queue) are in actions.py. A dry run calls
nothing and says what it would have written.
"""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.runtime import ActionContext, ActionResult
from docg.providers.documents_io import organization_document
from docg.providers.hubspot.client import MESSAGES, HubSpotClient

OBJECT_TYPES = ("deals", "contacts", "companies")
FOLDER_PATH = "/docg"


def _client(ctx: ActionContext) -> HubSpotClient:
    connection = ctx.active_connection(Provider.HUBSPOT, "HubSpot")
    return HubSpotClient(connection, correlation_id=ctx.correlation_id)


def _record_id(ctx: ActionContext, value: Any, what: str) -> str:
    text = str(value if value is not None else "").strip()
    if not text.isdigit():
        raise DocgError(
            "hubspot.invalid_record",
            ctx.say(_("The HubSpot %(what)s id '%(id)s' is not a record id (digits)."), what=what, id=text[:40]),
            {"value": text[:200]},
        )
    return text


def _properties(ctx: ActionContext, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise DocgError("hubspot.invalid_properties", ctx.say(_("No HubSpot property to set.")), {})
    # HubSpot takes every property value as a string; None clears it.
    return {str(k): ("" if v is None else v if isinstance(v, str) else str(v)) for k, v in value.items()}


def _call(ctx: ActionContext, call):
    try:
        return call()
    except DocgError as exc:
        exc.human = MESSAGES.translate(exc, ctx.language)
        raise


def set_properties(ctx: ActionContext, params: dict) -> ActionResult:
    object_type = params.get("object_type") or "deals"
    record_id = _record_id(ctx, params.get("record_id"), object_type)
    properties = _properties(ctx, params.get("properties"))
    if ctx.dry_run:
        return ActionResult(
            output={"object_type": object_type, "id": record_id, "properties": properties, "dry_run": True}
        )
    answer = _call(ctx, lambda: _client(ctx).update_object(object_type, record_id, properties=properties))
    return ActionResult(
        output={"object_type": object_type, "id": str(answer.get("id") or record_id), "properties": properties}
    )


def move_deal_stage(ctx: ActionContext, params: dict) -> ActionResult:
    deal_id = _record_id(ctx, params.get("deal_id"), "deal")
    properties = {"dealstage": str(params.get("stage") or "").strip()}
    if params.get("pipeline"):
        properties["pipeline"] = str(params["pipeline"]).strip()
    if not properties["dealstage"]:
        raise DocgError("hubspot.invalid_properties", ctx.say(_("No deal stage to move the deal to.")), {})
    if ctx.dry_run:
        return ActionResult(output={"id": deal_id, "properties": properties, "dry_run": True})
    _call(ctx, lambda: _client(ctx).update_object("deals", deal_id, properties=properties))
    return ActionResult(output={"id": deal_id, "properties": properties})


def attach_document(ctx: ActionContext, params: dict) -> ActionResult:
    deal_id = _record_id(ctx, params.get("deal_id"), "deal")
    document = organization_document(ctx, params.get("document_id"), purpose=_("attach to the deal"))
    body = str(params.get("note") or "").strip() or document.name
    if ctx.dry_run:
        return ActionResult(output={"deal_id": deal_id, "document_id": str(document.pk), "dry_run": True})
    client = _client(ctx)
    with document.file.open("rb") as handle:
        data = handle.read()
    uploaded = _call(
        ctx,
        lambda: client.upload_file(
            name=document.name, data=data, content_type=document.content_type, folder_path=FOLDER_PATH
        ),
    )
    file_id = str(uploaded.get("id") or "")
    note = _call(
        ctx,
        lambda: client.create_note(
            body=body,
            timestamp=timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            deal_id=deal_id,
            attachment_ids=[file_id] if file_id else [],
        ),
    )
    return ActionResult(
        output={
            "deal_id": deal_id,
            "document_id": str(document.pk),
            "file_id": file_id,
            "note_id": str(note.get("id") or ""),
        }
    )
