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
