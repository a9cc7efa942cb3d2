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


def _note_with_file(ctx: ActionContext, client: HubSpotClient, deal_id: str, file_id: str) -> str:
    """The deal's note that carries `file_id` ("" for none): an earlier attempt's note whose answer was lost.

    The file id is ours alone (uploaded by this step), so a note attaching it is this step's
    note. Associations and batch reads are read from the records themselves, not from
    HubSpot's search index, so a note created a moment ago is found.
    """
    note_ids = _call(ctx, lambda: client.associated_ids("deals", deal_id, "notes"))
    if not note_ids:
        return ""
    notes = _call(ctx, lambda: client.batch_read("notes", note_ids, properties=["hs_attachment_ids"]))
    for note in notes:
        attached = str((note.get("properties") or {}).get("hs_attachment_ids") or "").split(";")
        if file_id in attached:
            return str(note.get("id") or "")
    return ""


def attach_document(ctx: ActionContext, params: dict) -> ActionResult:
    """Upload the document to HubSpot and note it on the deal, once however often the step is retried.

    The step's memory (ActionContext.remember) keeps the uploaded file's id and, once
    answered, the note's id, per deal and document: a retry or takeover after the note
    exists answers with it and creates nothing; one that knows the file but not the note
    (the note's answer was lost, or the attempt died before writing it down) first looks
    for a note on the deal carrying that file. Only an upload whose answer never arrived
    can leave a second, unattached file in HubSpot's file manager, never a second note.
    """
    deal_id = _record_id(ctx, params.get("deal_id"), "deal")
    document = organization_document(ctx, params.get("document_id"), purpose=_("attach to the deal"))
    body = str(params.get("note") or "").strip() or document.name
    if ctx.dry_run:
        return ActionResult(output={"deal_id": deal_id, "document_id": str(document.pk), "dry_run": True})
    key = f"hubspot.attach:{deal_id}:{document.pk}"
    done = dict(ctx.recall().get(key) or {})
    client = _client(ctx)
    file_id = str(done.get("file_id") or "")
    note_id = str(done.get("note_id") or "")
    if file_id and not note_id:
        note_id = _note_with_file(ctx, client, deal_id, file_id)
    if not file_id:
        with document.file.open("rb") as handle:
            data = handle.read()
        uploaded = _call(
            ctx,
            lambda: client.upload_file(
                name=document.name, data=data, content_type=document.content_type, folder_path=FOLDER_PATH
            ),
        )
        file_id = str(uploaded.get("id") or "")
        ctx.remember(**{key: {"file_id": file_id}})
    if not note_id:
        note = _call(
            ctx,
            lambda: client.create_note(
                body=body,
                timestamp=timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                deal_id=deal_id,
                attachment_ids=[file_id] if file_id else [],
            ),
        )
        note_id = str(note.get("id") or "")
    ctx.remember(**{key: {"file_id": file_id, "note_id": note_id}})
    return ActionResult(
        output={
            "deal_id": deal_id,
            "document_id": str(document.pk),
            "file_id": file_id,
            "note_id": note_id,
        }
    )
