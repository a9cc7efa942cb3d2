"""The `smtp` app: send e-mail (with generated documents attached) through the organization's SMTP server."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import email_output, email_parameters
from docg.providers.smtp import handlers
from docg.providers.smtp.checks import smtp_check
from docg.providers.smtp.preflight import send_email_preflight

app = register(
    App(
        slug="smtp",
        name=_("SMTP e-mail"),
        description=_("Send e-mail through your own mail server (STARTTLS, SSL or plain)."),
        auth=AuthKind.BASIC,
        checker=smtp_check,
    )
)

app.action(
    Operation(
        name="send_email",
        handler=handlers.send_email,
        preflight=send_email_preflight,
        label=_("Send e-mail"),
        description=_("Send a text + HTML e-mail, with generated documents attached, to to/cc/bcc recipients."),
        queue="emails",
        phase="delivery",
        status_running="sending",
        max_attempts=4,
        timeout_seconds=3 * handlers.SMTP_TIMEOUT_SECONDS,
        parameters=email_parameters(
            body={"text": {"type": "string", "title": _("Text")}, "html": {"type": "string", "title": _("HTML")}},
            to_nonempty=True,
            example_step="pdf",
        ),
        output=email_output(ids=("message_id",)),
    )
)
