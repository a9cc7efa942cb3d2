from django.db import models


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    ERROR = "error", "Error"


class AuthKind(models.TextChoices):
    NONE = "none", "None"
    OAUTH2 = "oauth2", "OAuth 2.0"
    API_KEY = "api_key", "API key"
    BASIC = "basic", "User and password"


class Provider(models.TextChoices):
    """Providers a connection can hold credentials for."""

    HUBSPOT = "hubspot", "HubSpot"
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft"
    CLICKSIGN = "clicksign", "ClickSign"
    ZAPSIGN = "zapsign", "ZapSign"
    SMTP = "smtp", "SMTP"
    AI = "ai", "AI (OpenAI-compatible)"
    STRIPE = "stripe", "Stripe"
    WEBHOOK = "webhook", "Webhook"
