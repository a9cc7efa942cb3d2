"""The `permissions` domain of preflight for Google steps: may the connection read the template and write the folder?

Before anything is rendered, Drive is asked once per file (`files.get` with
`fields=capabilities`): the template must exist, not be in the trash and be
copyable; the destination folder must exist and accept new files. The
connection's granted OAuth scopes must cover Drive. Answers are cached for
CACHE_SECONDS per (connection, file), so a burst of runs asks Drive once; an
error Drive may get over (429, 5xx, a timeout) is not cached and only warns,
because preflight must not stop a run for a provider's hiccup.
"""

import uuid
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token
from docg.providers.google.client import GoogleClient
from docg.providers.preflight_checks import blocking_issue, node_label

CACHE_SECONDS = 60
PREFLIGHT_TIMEOUT_SECONDS = 10.0
DRIVE_SCOPES = frozenset({"https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive.file"})


def _cache_key(connection: DataSourceConnection, file_id: str) -> str:
    # Keyed by the connection: another connection (another Google account) may see the same file differently.
    return f"docg:preflight:drive:{connection.pk}:{file_id}"


def drive_file_access(
    *, connection: DataSourceConnection, file_id: str, what: str, correlation_id: str = ""
) -> dict[str, Any]:
    """{"file": {...}} or {"error": code, "transient": bool, "status": int}; cached briefly per connection."""
    key = _cache_key(connection, file_id)
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        token = fresh_access_token(connection=connection)
        # A check outside a run (the editor's preflight) gets a correlation id of its own.
        correlation_id = correlation_id or str(uuid.uuid4())
        client = GoogleClient(access_token=token, correlation_id=correlation_id, timeout=PREFLIGHT_TIMEOUT_SECONDS)
        answer: dict[str, Any] = {"file": client.drive_file_capabilities(file_id=file_id, what=what)}
    except DocgError as exc:
        answer = {
            "error": exc.code,
            "transient": exc.transient,
            "status": exc.details.get("status_code"),
            "reasons": exc.details.get("reasons") or [],
        }
        if exc.transient:
            return answer
    cache.set(key, answer, CACHE_SECONDS)
    return answer


def _issue(code: str, domain: str, node: dict, message: str, tech: dict, field: str, **extra: Any) -> dict:
    issue = blocking_issue(
        code=code, domain=domain, node=node, message=message, tech=tech, location={"parameters": [field]}
    )
    issue.update(extra)
    return issue


def scope_issues(*, node: dict, connection: DataSourceConnection, language: str) -> list[dict]:
    """`permissions.scope_missing` when the connection's granted scopes are known and include no Drive scope."""
    granted = set(connection.scopes or [])
    if not granted or granted & DRIVE_SCOPES:
        return []
    message = translated(
        _(
            "The Google connection '%(connection_name)s' was not allowed to use Google Drive, which "
            "step '%(label_)s' needs: reconnect it and allow every permission asked."
        ),
        language,
        connection_name=connection.name,
        label_=node_label(node),
    )
    tech = {"connection": str(connection.pk), "granted": sorted(granted), "needs_one_of": sorted(DRIVE_SCOPES)}
    return [
        blocking_issue(code="permissions.scope_missing", domain="permissions", node=node, message=message, tech=tech)
    ]


def _error_issue(answer: dict, *, node: dict, field: str, file_id: str, language: str, folder: bool) -> dict:
    label = node_label(node)
    tech = {"file_id": file_id, "field": field, **answer}
    code = answer["error"]
    if answer.get("transient"):
        message = translated(
            _("Google Drive did not answer whether step '%(label)s' can use %(file_id)s; the step will find out."),
            language,
            label=label,
            file_id=file_id,
        )
        return _issue("permissions.unchecked", "permissions", node, message, tech, field, severity="warning")
    if code == "oauth_expired":
        message = translated(
            _("The Google connection of step '%(label)s' was refused by Google: reconnect it."), language, label=label
        )
        return _issue("oauth_expired", "permissions", node, message, tech, field)
    if code == "google.not_found":
        return _problem("missing", node=node, field=field, file_id=file_id, language=language, folder=folder, tech=tech)
    if "insufficientPermissions" in (answer.get("reasons") or []):
        message = translated(
            _("The Google connection of step '%(label)s' lacks a permission Drive asks for: reconnect it."),
            language,
            label=label,
        )
        return _issue("permissions.scope_missing", "permissions", node, message, tech, field)
    return _problem("denied", node=node, field=field, file_id=file_id, language=language, folder=folder, tech=tech)


# What stops a step using a template (folder=False) or its destination folder (folder=True): (code, domain, words).
_PROBLEMS = {
    ("missing", True): (
        "delivery.folder_missing",
        "delivery",
        _(
            "The Google Drive folder %(file_id)s of step '%(label)s' does not exist or is not shared "
            "with the connected account: pick another folder."
        ),
    ),
    ("missing", False): (
        "permissions.file_not_found",
        "permissions",
        _(
            "The Google template file %(file_id)s of step '%(label)s' does not exist or is not shared "
            "with the connected account: pick another file."
        ),
    ),
    ("denied", True): (
        "permissions.folder_not_writable",
        "permissions",
        _(
            "The connected Google account may not add files to folder %(file_id)s (step '%(label)s'): "
            "pick a folder it can write to, or share this one with edit rights."
        ),
    ),
    ("denied", False): (
        "permissions.file_denied",
        "permissions",
        _(
            "The connected Google account may not copy the template %(file_id)s (step '%(label)s'): "
            "share the file with it."
        ),
    ),
}


def _problem(problem: str, *, node: dict, field: str, file_id: str, language: str, folder: bool, tech: dict) -> dict:
    code, domain, words = _PROBLEMS[(problem, folder)]
    message = translated(words, language, file_id=file_id, label=node_label(node))
    return _issue(code, domain, node, message, tech, field)


def file_issues(
    *,
    node: dict,
    connection: DataSourceConnection,
    field: str,
    file_id: str,
    language: str,
    folder: bool,
    correlation_id: str = "",
) -> list[dict]:
    """What stops the step using the template (`folder=False`) or writing into the folder (`folder=True`)."""
    what = f"the folder {file_id}" if folder else f"the template file {file_id}"
    answer = drive_file_access(connection=connection, file_id=file_id, what=what, correlation_id=correlation_id)
    if "error" in answer:
        return [_error_issue(answer, node=node, field=field, file_id=file_id, language=language, folder=folder)]
    file = answer["file"]
    capabilities = file.get("capabilities") or {}
    tech = {"file_id": file_id, "field": field, "capabilities": capabilities, "trashed": bool(file.get("trashed"))}
    if file.get("trashed"):
        answer = {"error": "google.not_found"}
        return [_error_issue(answer, node=node, field=field, file_id=file_id, language=language, folder=folder)]
    allowed = capabilities.get("canAddChildren") if folder else capabilities.get("canCopy")
    if allowed is False:
        return [
            _problem("denied", node=node, field=field, file_id=file_id, language=language, folder=folder, tech=tech)
        ]
    return []
