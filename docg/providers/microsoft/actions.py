"""The Microsoft 365 apps: `microsoft_word`, `microsoft_powerpoint` (fill + PDF through Graph) and `outlook`."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import document_output, email_output, email_parameters
from docg.providers.microsoft import handlers
from docg.providers.microsoft.client import CONVERT_TIMEOUT_SECONDS, TIMEOUT_SECONDS
from docg.providers.microsoft.preflight import fill_preflight, send_mail_preflight


def _fill_parameters(what: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "template_id": {
                "type": "string",
                "minLength": 1,
                "title": _("Template"),
                "description": format_lazy(_("The {what} template (its id) to fill."), what=what),
            },
            "data": {
                "type": "object",
                "title": _("Data"),
                "description": _("What the template sees; default: the trigger's data."),
            },
            "filename": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("File name")},
            "folder": {
                "type": "string",
                "maxLength": 400,
                "title": _("Folder"),
                "description": format_lazy(
                    _("Drive folder for the filled file (default '{folder}')."), folder=handlers.DEFAULT_FOLDER
                ),
            },
            "drive_id": {
                "type": "string",
                "maxLength": 200,
                "title": _("SharePoint drive"),
                "description": _("A SharePoint document library's drive id; default: the account's OneDrive."),
            },
        },
        "required": ["template_id"],
        "additionalProperties": False,
    }


FILL_OUTPUT = document_output(
    template_id="string", drive_item_id="string", web_url="string", remote_name="string", dry_run="boolean"
)

# Render locally (≤ 60 s), upload, and wait for Graph's conversion.
_FILL_TIMEOUT = int(60 + TIMEOUT_SECONDS + CONVERT_TIMEOUT_SECONDS * 2)


def _fill_operation(name: str, label: str, kind_label: str, handler, kind: str) -> Operation:
    return Operation(
        name=name,
        handler=handler,
        preflight=fill_preflight(kind),
        label=label,
        description=format_lazy(
            _(
                "Fill a {kind} template with the run's data, upload it to OneDrive or SharePoint and store "
                "Microsoft's PDF of it; the run goes 'ready'."
            ),
            kind=kind_label,
        ),
        parameters=_fill_parameters(kind_label),
        output=FILL_OUTPUT,
        queue="documents",
        phase="render",
        max_attempts=4,
        timeout_seconds=_FILL_TIMEOUT,
    )


word = register(
    App(
        slug="microsoft_word",
        name="Microsoft Word",
        description=_("Word templates filled by docg, converted to PDF by Microsoft 365 (OneDrive / SharePoint)."),
        auth=AuthKind.OAUTH2,
    )
)
word.action(
    _fill_operation("fill_document", _("Fill a Word document (Microsoft 365)"), "Word", handlers.fill_document, "docx")
)

powerpoint = register(
    App(
        slug="microsoft_powerpoint",
        name="Microsoft PowerPoint",
        description=_(
            "PowerPoint templates filled by docg, converted to PDF by Microsoft 365 (OneDrive / SharePoint)."
        ),
        auth=AuthKind.OAUTH2,
    )
)
powerpoint.action(
    _fill_operation(
        "fill_presentation",
        _("Fill a PowerPoint presentation (Microsoft 365)"),
        "PowerPoint",
        handlers.fill_presentation,
        "pptx",
    )
)

outlook = register(
    App(
        slug="outlook",
        name="Outlook",
        description=_("Send e-mail from a Microsoft 365 / Outlook.com mailbox through Microsoft Graph."),
        auth=AuthKind.OAUTH2,
    )
)
outlook.action(
    Operation(
        name="send_mail",
        handler=handlers.send_mail,
        preflight=send_mail_preflight,
        label=_("Send e-mail (Outlook)"),
        description=_("Send an e-mail with generated documents attached from the connected Outlook mailbox."),
        queue="emails",
        phase="delivery",
        status_running="sending",
        max_attempts=4,
        timeout_seconds=int(3 * TIMEOUT_SECONDS),
        parameters=email_parameters(
            body={
                "body": {"type": "string", "title": _("Body")},
                "body_type": {"type": "string", "enum": ["html", "text"], "default": "html", "title": _("Body format")},
            },
            after={"save_to_sent_items": {"type": "boolean", "default": True, "title": _("Save to Sent Items")}},
            to_nonempty=True,
            example_step="fill",
        ),
        output=email_output(),
    )
)
