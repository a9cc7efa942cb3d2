from typing import Any

from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.orgs.models import Organization, User


@transaction.atomic
def connection_create(
    *,
    organization: Organization,
    by: User | None,
    provider: str,
    name: str,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> DataSourceConnection:
    """Store a provider credential, encrypted."""
    connection = DataSourceConnection.objects.create(
        organization=organization,
        provider=provider,
        name=name,
        credentials=credentials or {},
        config=config or {},
        created_by=by,
    )
    audit_log(
        organization=organization,
        action=AuditAction.CONNECTION_CREATED,
        target_type="connection",
        target_id=connection.pk,
        # Never the credentials: the audit trail is readable by staff.
        metadata={"provider": provider, "name": name},
        **user_actor(by),
    )
    return connection


@transaction.atomic
def connection_update(
    *,
    connection: DataSourceConnection,
    by: User | None,
    name: str | None = None,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> DataSourceConnection:
    """Rename, reconfigure or re-key a connection; new credentials make it active again."""
    connection = DataSourceConnection.objects.select_for_update().get(pk=connection.pk)
    if name is not None:
        connection.name = name
    if config is not None:
        connection.config = config
    if credentials is not None:
        connection.credentials = credentials
        connection.status = ConnectionStatus.ACTIVE
        connection.last_error = ""
    connection.save()
    return connection


@transaction.atomic
def connection_revoke(*, connection: DataSourceConnection, by: User | None) -> DataSourceConnection:
    """Forget the credential; the row stays so history and nodes still name it."""
    connection = DataSourceConnection.objects.select_for_update().get(pk=connection.pk)
    if connection.status == ConnectionStatus.REVOKED:
        return connection
    connection.status = ConnectionStatus.REVOKED
    connection.credentials = {}
    connection.save(update_fields=["status", "credentials", "updated_at"])
    audit_log(
        organization=connection.organization_id,
        action=AuditAction.CONNECTION_REVOKED,
        target_type="connection",
        target_id=connection.pk,
        metadata={"provider": connection.provider, "name": connection.name},
        **user_actor(by),
    )
    return connection
