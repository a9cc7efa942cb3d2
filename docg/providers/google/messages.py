"""The Google connectors' error messages in English and Brazilian Portuguese, keyed by code."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.errors import MessageCatalog

# code → (English, Brazilian Portuguese); `{summary}` says what was asked and what Google answered.
MESSAGES = {
    "oauth_expired": _("Google refused the connection's sign-in (%(summary)s): reconnect the Google connection."),
    "drive.insufficient_permissions": _(
        "The Google account has no permission to use %(summary)s: share it with the account or grant the access."
    ),
    "google.not_found": _("Google could not find %(summary)s: check the id and that the account can see it."),
    "template.not_found": _("Google could not find %(summary)s: choose the template again."),
    "rate_limit": _("Google is limiting requests (%(summary)s); docg will try again."),
    "google.unavailable": _("Could not get an answer from Google (%(summary)s); docg will try again."),
    "google.rejected": _("Google refused the request (%(summary)s)."),
}

_CATALOG = MessageCatalog(MESSAGES)
google_error = _CATALOG.error
translate = _CATALOG.translate
