"""The `permissions` domain of preflight for Word/PowerPoint steps: may the connection use its OneDrive/SharePoint?

Before anything is rendered, Graph is asked about the destination: the drive
(the account's OneDrive, or the SharePoint library `drive_id`) and the folder
path in it. A folder that does not exist yet is fine (the upload creates it);
a drive that does not exist, or a drive or folder Graph refuses (403), stops
the run with an action that fixes it. The granted scopes must include a
Files.ReadWrite scope. Answers are cached for CACHE_SECONDS per connection; a
Graph hiccup (429, 5xx, a timeout) only warns and is not cached.
"""

import uuid
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token
from docg.providers.microsoft.client import GraphClient
from docg.providers.preflight_checks import blocking_issue, node_label

CACHE_SECONDS = 60
PREFLIGHT_TIMEOUT_SECONDS = 10.0


def _has_files_scope(scopes: list[str]) -> bool:
    # Graph scopes come bare ("Files.ReadWrite") or as URLs ("https://graph.microsoft.com/Files.ReadWrite.All").
    return any(s.rsplit("/", 1)[-1].lower().startswith("files.readwrite") for s in scopes)


def _ask(client: GraphClient, *, drive_id: str, folder: str) -> dict[str, Any]:
    """{"ok": True} or {"error": code, "where": "drive"|"folder", "transient": bool}."""
    try:
        client.drive_get(drive_id=drive_id or None)
    except DocgError as exc:
        return {"error": exc.code, "where": "drive", "transient": exc.transient}
    if not folder:
        return {"ok": True}
    try:
        item = client.drive_item(path=folder, drive_id=drive_id or None)
    except DocgError as exc:
        if exc.code == "microsoft.not_found":
            return {"ok": True, "folder_created_on_upload": True}
        return {"error": exc.code, "where": "folder", "transient": exc.transient}
    if "folder" not in item:
        return {"error": "not_a_folder", "where": "folder", "transient": False}
    return {"ok": True}


def destination_access(
    *, connection: DataSourceConnection, drive_id: str, folder: str, correlation_id: str = ""
) -> dict[str, Any]:
    """What Graph says about the step's destination, cached briefly per (connection, drive, folder)."""
    key = f"docg:preflight:graph:{connection.pk}:{drive_id}:{folder}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        token = fresh_access_token(connection=connection)
    except DocgError as exc:
        return {"error": exc.code, "where": "drive", "transient": exc.transient}
    headers = {"X-Correlation-ID": correlation_id or str(uuid.uuid4())}
    answer = _ask(
        GraphClient(token, headers=headers, timeout=PREFLIGHT_TIMEOUT_SECONDS), drive_id=drive_id, folder=folder
    )
    if not answer.get("transient"):
        cache.set(key, answer, CACHE_SECONDS)
    return answer


def access_issues(
    *, node: dict, connection: DataSourceConnection, drive_id: str, folder: str, language: str, correlation_id: str
) -> list[dict]:
    """Scope, drive and folder issues for a step that uploads to `folder` in `drive_id` (empty: the OneDrive)."""
    label = node_label(node)
    if connection.scopes and not _has_files_scope(list(connection.scopes)):
        message = translated(
            _(
                "The Microsoft connection '%(connection_name)s' may not write files, which step '%(label)s'"
                " needs: reconnect it and allow every permission asked."
            ),
            language,
            connection_name=connection.name,
            label=label,
        )
        tech = {"connection": str(connection.pk), "granted": list(connection.scopes)}
        issue = blocking_issue(
            code="permissions.scope_missing", domain="permissions", node=node, message=message, tech=tech
        )
        return [issue]
    answer = destination_access(connection=connection, drive_id=drive_id, folder=folder, correlation_id=correlation_id)
    if answer.get("ok"):
        return []
    tech = {"drive_id": drive_id, "folder": folder, **answer}
    where = "drive_id" if answer["where"] == "drive" else "folder"
    location = {"parameters": [where]}
    if answer.get("transient"):
        message = translated(
            _("Microsoft did not answer whether step '%(label)s' can write to its folder; the step will find out."),
            language,
            label=label,
        )
        issue = blocking_issue(
            code="permissions.unchecked", domain="permissions", node=node, message=message, tech=tech, location=location
        )
        return [{**issue, "severity": "warning"}]
    code = answer["error"]
    if code == "oauth_expired":
        message = translated(
            _("The Microsoft connection of step '%(label)s' was refused by Microsoft: reconnect it."),
            language,
            label=label,
        )
        return [blocking_issue(code="oauth_expired", domain="permissions", node=node, message=message, tech=tech)]
    if answer["where"] == "drive" and code == "microsoft.not_found":
        message = translated(
            _("The SharePoint library %(drive_id)s of step '%(label)s' does not exist: pick another one."),
            language,
            drive_id=drive_id,
            label=label,
        )
        return [
            blocking_issue(
                code="delivery.folder_missing", domain="delivery", node=node, message=message, tech=tech,
                location=location,
            )
        ]  # fmt: skip
    message = translated(
        _(
            "The connected Microsoft account may not write to '%(target)s' (step '%(label)s'): pick a "
            "folder it can write to, or ask for access."
        ),
        language,
        target=folder or drive_id or "OneDrive",
        label=label,
    )
    return [
        blocking_issue(
            code="permissions.folder_not_writable", domain="permissions", node=node, message=message, tech=tech,
            location=location,
        )
    ]  # fmt: skip
