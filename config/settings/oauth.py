"""OAuth 2.0 connections (HubSpot, Google, Microsoft) through social-auth-app-django.

The providers are used to *connect* an organization's account, never to sign in
to docg: the pipeline refuses anyone not already logged in (email login stays
with Django's ModelBackend) and never creates users. Tokens go into the
encrypted DataSourceConnection, not into UserSocialAuth.extra_data.
"""

import environ

from .environment import local_url

env = environ.Env()

_FRONTEND_URL = env("FRONTEND_URL", default=local_url()).rstrip("/")

AUTHENTICATION_BACKENDS = [
    # The dashboard's email + password login.
    "django.contrib.auth.backends.ModelBackend",
    # Connect-only backends (see docg/connectors/oauth_backends.py).
    "docg.connectors.oauth_backends.HubSpotConnect",
    "docg.connectors.oauth_backends.GoogleConnect",
    "docg.connectors.oauth_backends.MicrosoftConnect",
]

SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_URL_NAMESPACE = "social"
# Callback URLs are built from FRONTEND_URL (oauth_backends.ConnectMixin), not from the request's Host header.
OAUTH_REDIRECT_BASE_URL = _FRONTEND_URL
SOCIAL_AUTH_LOGIN_ERROR_URL = "/"
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/"
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_SANITIZE_REDIRECTS = True
# Nothing from the provider is kept on the user's social row but ids (the pipeline scrubs tokens).
SOCIAL_AUTH_PROTECTED_USER_FIELDS = ["email", "username", "first_name", "last_name"]

SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "docg.connectors.oauth_pipeline.require_connecting_writer",
    "docg.connectors.oauth_pipeline.link_social_account",
    "docg.connectors.oauth_pipeline.store_connection",
)

# --- HubSpot (backend name "hubspot") --------------------------------------------------
SOCIAL_AUTH_HUBSPOT_KEY = env("HUBSPOT_CLIENT_ID", default="")
SOCIAL_AUTH_HUBSPOT_SECRET = env("HUBSPOT_CLIENT_SECRET", default="")
SOCIAL_AUTH_HUBSPOT_SCOPE = env.list(
    "HUBSPOT_SCOPES",
    default=[
        "crm.objects.deals.read",
        "crm.objects.contacts.read",
        "crm.objects.companies.read",
        "crm.objects.line_items.read",
    ],
)
# Webhook signatures (X-HubSpot-Signature-v3) are keyed with the app's client secret.
HUBSPOT_WEBHOOK_SECRET = env("HUBSPOT_WEBHOOK_SECRET", default="") or SOCIAL_AUTH_HUBSPOT_SECRET
# The public URL HubSpot calls, as configured in the app (the signature covers it).
HUBSPOT_WEBHOOK_BASE_URL = env("HUBSPOT_WEBHOOK_BASE_URL", default=_FRONTEND_URL).rstrip("/")
HUBSPOT_WEBHOOK_TOLERANCE_SECONDS = 300

# --- Google (backend name "google") ----------------------------------------------------
SOCIAL_AUTH_GOOGLE_KEY = env("GOOGLE_CLIENT_ID", default="")
SOCIAL_AUTH_GOOGLE_SECRET = env("GOOGLE_CLIENT_SECRET", default="")
SOCIAL_AUTH_GOOGLE_SCOPE = env.list(
    "GOOGLE_SCOPES",
    default=[
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/documents",
        "https://www.googleapis.com/auth/presentations",
        "https://www.googleapis.com/auth/gmail.send",
        # The narrowest scope that lists the send-as aliases (gmail.readonly would read all mail):
        # preflight checks a Gmail step's sender against them.
        "https://www.googleapis.com/auth/gmail.settings.basic",
        "https://www.googleapis.com/auth/forms.responses.readonly",
    ],
)
# A refresh token is only issued for offline access, and again only when consent is asked.
SOCIAL_AUTH_GOOGLE_AUTH_EXTRA_ARGUMENTS = {
    "access_type": "offline",
    "prompt": "consent",
    "include_granted_scopes": "true",
}

# --- Microsoft (backend name "microsoft") ----------------------------------------------
SOCIAL_AUTH_MICROSOFT_KEY = env("MICROSOFT_CLIENT_ID", default="")
SOCIAL_AUTH_MICROSOFT_SECRET = env("MICROSOFT_CLIENT_SECRET", default="")
SOCIAL_AUTH_MICROSOFT_TENANT = env("MICROSOFT_TENANT", default="common")
SOCIAL_AUTH_MICROSOFT_SCOPE = env.list(
    "MICROSOFT_SCOPES", default=["offline_access", "User.Read", "Files.ReadWrite.All", "Mail.Send"]
)

# Which social backend serves each docg provider (GET /oauth/connect/<provider>/).
OAUTH_CONNECT_BACKENDS = {"hubspot": "hubspot", "google": "google", "microsoft": "microsoft"}
# An access token this close to its expiry is refreshed before use.
OAUTH_REFRESH_MARGIN_SECONDS = 60
OAUTH_HTTP_TIMEOUT_SECONDS = env.float("OAUTH_HTTP_TIMEOUT_SECONDS", default=15.0)
