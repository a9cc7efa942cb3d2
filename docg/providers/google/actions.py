"""The Google apps: `google_docs`, `google_slides`, `google_drive` and `gmail` (Google Forms is in triggers.py).

All of them use an OAuth connection with provider "google".
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import (
    DOCUMENT_ID,
    document_output,
    email_output,
    email_parameters,
    output_schema,
    parameters_schema,
)
from docg.providers.google import handlers_delivery, handlers_documents, preflight

_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_TEXT_MAP = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "integer", "boolean", "null"]},
    "title": _("Replacements"),
    "description": _('Placeholder → value: {"name": "{{ trigger.name }}"} replaces {{name}} in the template.'),
}
_FILL_OUTPUT = document_output(google_file_id="string", google_file_url="string", occurrences_changed="integer")


def _fill_parameters(kind: str, **extra: dict) -> dict:
    return {
        "type": "object",
        "properties": {
            "template_file_id": {
                **_ID,
                "title": _("Template"),
                "description": format_lazy(_("The Drive file id of the {kind} template."), kind=kind),
            },
            "folder_id": {
                **_ID,
                "title": _("Folder"),
                "description": _("The Drive folder that receives the filled copy."),
            },
            "replacements": _TEXT_MAP,
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "title": _("File name"),
                "description": _("The copy's and PDF's name."),
            },
            **extra,
        },
        "required": ["template_file_id", "folder_id"],
        "additionalProperties": False,
    }


def _fill(name: str, label: str, description: str, handler, parameters: dict) -> Operation:
    return Operation(
        name=name,
        label=label,
        description=description,
        handler=handler,
        preflight=preflight.fill_preflight,
        parameters=parameters,
        output=_FILL_OUTPUT,
        queue="documents",
        phase="render",
        max_attempts=4,
        timeout_seconds=180,
    )


docs = register(
    App(
        slug="google_docs",
        name="Google Docs",
        description=_("Fill a Google Docs template in Drive and keep the PDF."),
        auth=AuthKind.OAUTH2,
    )
)
docs.action(
    _fill(
        "fill_document",
        _("Fill a Google Docs template"),
        _("Copy the template into a folder, replace its {{placeholders}}, export the PDF; the run goes 'ready'."),
        handlers_documents.fill_document,
        _fill_parameters("Google Docs"),
    )
)

slides = register(
    App(
        slug="google_slides",
        name="Google Slides",
        description=_("Fill a Google Slides template in Drive (text and images) and keep the PDF."),
        auth=AuthKind.OAUTH2,
    )
)
slides.action(
    _fill(
        "fill_presentation",
        _("Fill a Google Slides template"),
        _("Copy the presentation, replace {{placeholders}} with text and image shapes with images, export the PDF."),
        handlers_documents.fill_presentation,
        _fill_parameters(
            "Google Slides",
            images={
                "type": "object",
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2000},
                "title": _("Images"),
                "description": _(
                    "Placeholder → public image URL (PNG, JPEG or GIF): shapes holding it become the image."
                ),
            },
        ),
    )
)

drive = register(
    App(
        slug="google_drive",
        name="Google Drive",
        description=_("Save generated documents to Google Drive folders."),
        auth=AuthKind.OAUTH2,
    )
)
drive.action(
    Operation(
        name="upload",
        label=_("Upload a document to Google Drive"),
        description=_("Save a generated document (e.g. the PDF) into a Drive folder."),
        handler=handlers_delivery.drive_upload,
        preflight=preflight.upload_preflight,
        queue="documents",
        phase="delivery",
        max_attempts=4,
        timeout_seconds=120,
        parameters=parameters_schema(
            properties={
                "document_id": DOCUMENT_ID,
                "folder_id": {**_ID, "title": _("Folder"), "description": _("The Drive folder id.")},
                "name": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("File name")},
            },
            required=["document_id", "folder_id"],
        ),
        output=output_schema(
            document_id="string", folder_id="string", file_id="string", web_view_link="string", dry_run="boolean"
        ),
    )
)

gmail = register(
    App(
        slug="gmail",
        name="Gmail",
        description=_("Send e-mail from the connected Gmail account, with generated documents attached."),
        auth=AuthKind.OAUTH2,
    )
)
gmail.action(
    Operation(
        name="send",
        label=_("Send e-mail with Gmail"),
        description=_("Send a text (+ HTML) e-mail with generated documents attached; the run goes 'sent'."),
        handler=handlers_delivery.gmail_send,
        preflight=preflight.gmail_preflight,
        queue="emails",
        phase="delivery",
        status_running="sending",
        max_attempts=4,
        timeout_seconds=120,
        parameters=email_parameters(
            body={"body": {"type": "string", "title": _("Text")}, "html": {"type": "string", "title": _("HTML")}},
            to_nonempty=False,
            example_step="fill",
        ),
        output=email_output(ids=("message_id", "gmail_id", "thread_id")),
    )
)
