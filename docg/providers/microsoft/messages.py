"""The Microsoft connectors' error messages in English and Brazilian Portuguese.

`{summary}` carries what was asked of Graph and what it answered (status, Graph's
error code and message), so support can read it in either language.
"""

from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors.errors import MessageCatalog

MESSAGES = {
    "oauth_expired": _(
        "Microsoft no longer accepts the connection's sign-in (%(summary)s): reconnect the Microsoft account."
    ),
    "microsoft.insufficient_permissions": _(
        "The Microsoft account lacks a permission docg needs (%(summary)s): reconnect it and accept every "
        "permission docg asks for (files and mail), or ask your Microsoft 365 administrator to allow them."
    ),
    "microsoft.not_found": _(
        "Microsoft could not find what docg asked for (%(summary)s): check the drive, folder or mailbox."
    ),
    "microsoft.conflict": _("Microsoft reported a conflict with another change (%(summary)s); docg will try again."),
    "rate_limit": _("Microsoft is limiting requests (%(summary)s); docg will try again."),
    "microsoft.unavailable": _("Microsoft is unavailable right now (%(summary)s); docg will try again."),
    "microsoft.timeout": _("Microsoft did not answer in time (%(summary)s); docg will try again."),
    "microsoft.rejected": _("Microsoft refused the request (%(summary)s)."),
    "microsoft.bad_response": _("Microsoft answered with something docg did not expect (%(summary)s)."),
    "microsoft.attachments_too_large": _(
        "The attachments are too large for Outlook to send in one message (%(summary)s)."
    ),
}

_CATALOG = MessageCatalog(MESSAGES)
microsoft_error = _CATALOG.error


def translate(error: DocgError, language: str) -> str:
    return _CATALOG.translate(error, language)
