from typing import Any

from django.db import transaction
from django.utils import timezone

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.ssrf import host_problem, url_problem
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.orgs.models import Organization, User

# Config that only a provider's own answer may set (the OAuth flow): webhooks route events by
# these (HubSpot's portal id), and portal ids are public, so a client must never write them.
SERVER_OWNED_CONFIG = frozenset({"portal_id", "hub_domain", "account", "account_id"})


def _client_config(config: Any) -> Any:
    if not isinstance(config, dict):  # the admin's JSON field may hand over other JSON values
        return config
    return {key: value for key, value in config.items() if key not in SERVER_OWNED_CONFIG}


def connection_address_problems(*, config: Any = None, credentials: Any = None) -> dict[str, str]:
    """The settings that name a server (`host`, `*url`) but cannot be one, by field, e.g. {"config.base_url": "..."}."""
    problems = {}
    for where, values in (("config", config), ("credentials", credentials)):
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if key == "host":
                problem = host_problem(value.strip())
            elif key.endswith("url"):
                problem = url_problem(value.strip())
            else:
                continue
            if problem:
                problems[f"{where}.{key}"] = problem
    return problems


@transaction.atomic
def connection_create(
    *,
    organization: Organization,
    by: User | None,
    provider: str,
    name: str,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    account: dict[str, Any] | None = None,
) -> DataSourceConnection:
    """Store a provider credential, encrypted. `account`: what the provider said about it (OAuth only)."""
    connection = DataSourceConnection.objects.create(
        organization=organization,
        provider=provider,
        name=name,
        credentials=credentials or {},
        config={**(_client_config(config) if isinstance(config, dict) else {}), **(account or {})},
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
        stored = connection.config if isinstance(connection.config, dict) else {}
        owned = {key: value for key, value in stored.items() if key in SERVER_OWNED_CONFIG}
        config = _client_config(config)
        connection.config = {**config, **owned} if isinstance(config, dict) else config
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


# --- OAuth connections and credential checks ----------------------------------------------


@transaction.atomic
def connection_connect_oauth(
    *,
    organization: Organization,
    by: User | None,
    provider: str,
    account_id: str,
    name: str,
    credentials: dict[str, Any],
    config: dict[str, Any],
    scopes: list[str],
    expires_at: Any = None,
    connection_id: Any = None,
) -> tuple[DataSourceConnection, bool]:
    """Store the tokens of a finished OAuth flow: renew the organization's connection to that account, or create one.

    Returns (connection, created). A renewed connection becomes active again and keeps its id,
    so the workflow steps that name it work again without being edited.
    """
    existing = DataSourceConnection.objects.select_for_update().filter(organization=organization, provider=provider)
    connection = None
    if connection_id:
        connection = existing.filter(pk=connection_id).first()
    if connection is None and account_id:
        connection = existing.filter(config__account_id=account_id).order_by("-created_at").first()
    config = {**config, "account_id": account_id}
    if connection is None:
        connection = connection_create(
            organization=organization, by=by, provider=provider, name=name, credentials=credentials, account=config
        )
        created = True
    else:
        connection.credentials = credentials
        connection.config = {**(connection.config or {}), **config}
        created = False
    connection.scopes = scopes
    connection.expires_at = expires_at
    connection.status = ConnectionStatus.ACTIVE
    connection.last_error = ""
    connection.save()
    return connection, created


def connection_set_tokens(
    *, connection: DataSourceConnection, credentials: dict[str, Any], expires_at: Any = None
) -> DataSourceConnection:
    """Save refreshed tokens on a connection the caller holds locked (docg.connectors.oauth)."""
    connection.credentials = credentials
    connection.expires_at = expires_at
    connection.last_error = ""
    connection.save(update_fields=["credentials", "expires_at", "last_error", "updated_at"])
    return connection


def connection_mark_expired(*, connection: DataSourceConnection, reason: str) -> DataSourceConnection:
    """The provider refused the credential for good: the connection waits for a reconnect."""
    DataSourceConnection.objects.filter(pk=connection.pk).exclude(status=ConnectionStatus.REVOKED).update(
        status=ConnectionStatus.EXPIRED, last_error=reason[:2000], updated_at=timezone.now()
    )
    connection.refresh_from_db(fields=["status", "last_error", "updated_at"])
    return connection


def connection_record_check(
    *, connection: DataSourceConnection, ok: bool, code: str, message: str
) -> DataSourceConnection:
    """Remember the outcome of `POST /connections/{id}/test`; a refused credential marks it expired."""
    with transaction.atomic():
        connection = DataSourceConnection.objects.select_for_update().get(pk=connection.pk)
        connection.last_checked_at = timezone.now()
        connection.last_error = "" if ok else message[:2000]
        if not ok and code == "oauth_expired" and connection.status == ConnectionStatus.ACTIVE:
            connection.status = ConnectionStatus.EXPIRED
        elif ok and connection.status in (ConnectionStatus.EXPIRED, ConnectionStatus.ERROR):
            connection.status = ConnectionStatus.ACTIVE
        connection.save(update_fields=["last_checked_at", "last_error", "status", "updated_at"])
    return connection
