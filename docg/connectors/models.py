from django.conf import settings
from django.db import models

from docg.common.fields import EncryptedJSONField
from docg.common.models import TenantModel
from docg.connectors.choices import ConnectionStatus


class DataSourceConnection(TenantModel):
    """An organization's credential for one provider. `credentials` is encrypted and never leaves the server."""

    provider = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    credentials = EncryptedJSONField(default=dict, blank=True)
    # Non-secret settings (account id, base URL, default folder); safe to show.
    config = models.JSONField(default=dict, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "provider", "status"], name="connection_org_provider_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"
