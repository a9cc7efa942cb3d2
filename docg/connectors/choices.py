from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ConnectionStatus(models.TextChoices):
    # A context of their own: Portuguese agrees these with "conexão" (feminine), unlike a workflow's "Active".
    ACTIVE = "active", pgettext_lazy("connection status", "Active")
    EXPIRED = "expired", pgettext_lazy("connection status", "Expired")
    REVOKED = "revoked", pgettext_lazy("connection status", "Revoked")
    ERROR = "error", _("Error")


class AuthKind(models.TextChoices):
    NONE = "none", _("None")
    OAUTH2 = "oauth2", "OAuth 2.0"
    API_KEY = "api_key", _("API key")
    BASIC = "basic", _("User and password")


class Provider(models.TextChoices):
    """Providers a connection can hold credentials for (brand names stay as they are in every language)."""

    HUBSPOT = "hubspot", "HubSpot"
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft"
    CLICKSIGN = "clicksign", "ClickSign"
    ZAPSIGN = "zapsign", "ZapSign"
    SMTP = "smtp", "SMTP"
    AI = "ai", _("AI (OpenAI-compatible)")
    STRIPE = "stripe", "Stripe"
    WEBHOOK = "webhook", "Webhook"
