"""HubSpot write-back: set record properties (a contract's status, the signed PDF's link), move a deal, note a document.

The app is declared with its triggers (triggers.py); what each action does is in handlers_crm.py.
"""

from django.utils.translation import gettext_lazy as _

from docg.connectors.registry import Operation
from docg.connectors.schemas import DOCUMENT_ID, output_schema
from docg.providers.hubspot import handlers_crm
from docg.providers.hubspot.triggers import app

_RECORD_ID = {"type": "string", "minLength": 1, "maxLength": 40, "title": _("Record id")}

app.action(
    Operation(
        name="set_properties",
        handler=handlers_crm.set_properties,
        label=_("Update a HubSpot record"),
        description=_("Set properties of a deal, contact or company (for example the contract status or its link)."),
        parameters={
            "type": "object",
            "properties": {
                "object_type": {"enum": list(handlers_crm.OBJECT_TYPES), "title": _("Record type")},
                "record_id": {**_RECORD_ID, "description": _("Usually {{ trigger.deal.id }}.")},
                "properties": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 50,
                    "title": _("Properties"),
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                },
            },
            "required": ["record_id", "properties"],
            "additionalProperties": False,
        },
        output=output_schema(object_type="string", id="string", properties="object", dry_run="boolean"),
    )
)

app.action(
    Operation(
        name="move_deal_stage",
        handler=handlers_crm.move_deal_stage,
        label=_("Move a HubSpot deal"),
        description=_("Move the deal to another stage (and pipeline)."),
        parameters={
            "type": "object",
            "properties": {
                "deal_id": {**_RECORD_ID, "title": _("Deal id")},
                "stage": {"type": "string", "minLength": 1, "maxLength": 100, "title": _("Stage id")},
                "pipeline": {"type": "string", "maxLength": 100, "title": _("Pipeline id")},
            },
            "required": ["deal_id", "stage"],
            "additionalProperties": False,
        },
        output=output_schema(id="string", properties="object", dry_run="boolean"),
    )
)

app.action(
    Operation(
        name="attach_document",
        handler=handlers_crm.attach_document,
        label=_("Attach a document to a HubSpot deal"),
        description=_("Upload a generated document to HubSpot's files and add it to the deal as a note."),
        queue="documents",
        parameters={
            "type": "object",
            "properties": {
                "deal_id": {**_RECORD_ID, "title": _("Deal id")},
                "document_id": DOCUMENT_ID,
                "note": {"type": "string", "maxLength": 5000, "title": _("Note")},
            },
            "required": ["deal_id", "document_id"],
            "additionalProperties": False,
        },
        output=output_schema(
            deal_id="string", document_id="string", file_id="string", note_id="string", dry_run="boolean"
        ),
    )
)
