"""What the Microsoft actions add to preflight (PRODUCT.md section 5).

- Word / PowerPoint: everything `docx.render` / `pptx.render` check (template
  exists, is the right kind, its lint errors via documents.selectors.template_issues,
  data resolves), plus a Microsoft connection to convert with.
- Outlook: every recipient address the node or the trigger data decides now is
  valid (`delivery.invalid_email`), plus a Microsoft connection to send with.

Word / PowerPoint also ask Graph whether the connection may write to the step's
drive and folder, and check the granted scopes (drive_access.py).

The connection check here covers what the generic check in
docg.executions.preflight does not: no connection chosen, a connection for
another provider, and a Microsoft sign-in that can no longer be used (access
token expired with no refresh token) → `oauth_expired`. Connections that are
inactive or marked expired are the generic check's.
"""

import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.connectors.choices import Provider
from docg.documents.rendering.preflight import render_preflight
from docg.providers.microsoft.drive_access import access_issues
from docg.providers.microsoft.handlers import folder_path
from docg.providers.preflight_checks import (
    UNKNOWN,
    blocking_issue,
    chosen_connection,
    node_label,
    recipient_issues,
    resolve_now,
)
from docg.providers.sender_check import sender_preflight


def _usable_sign_in(credentials: dict) -> bool:
    if credentials.get("refresh_token"):
        return True  # docg.connectors.oauth refreshes an expired access token with it
    expires_at = float(credentials.get("expires_at") or 0)
    return bool(credentials.get("access_token")) and (not expires_at or expires_at > time.time())


def connection_issues(node: dict, organization: Any, language: str) -> list[dict]:
    issues, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.MICROSOFT,
        name="Microsoft",
        language=language,
        only_active=True,
    )
    if connection is None or _usable_sign_in(connection.credentials or {}):
        return issues
    label = node_label(node)
    message = translated(
        _("The Microsoft connection '%(name)s' used by step '%(label)s' has expired: reconnect it."),
        language,
        name=connection.name,
        label=label,
    )
    tech = {"connection": str(connection.pk)}
    return [blocking_issue(code="oauth_expired", domain="permissions", node=node, message=message, tech=tech)]


def _destination_issues(node: dict, organization: Any, trigger_data: dict, language: str, correlation_id: Any):
    """Ask Graph (cached briefly) whether the connection can write to the step's drive and folder."""
    _none, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.MICROSOFT,
        name="Microsoft",
        language=language,
        only_active=True,
    )
    params = node.get("parameters") or {}
    folder = resolve_now(value=params.get("folder"), organization=organization, trigger_data=trigger_data)
    drive_id = resolve_now(value=params.get("drive_id") or "", organization=organization, trigger_data=trigger_data)
    if connection is None or folder is UNKNOWN or drive_id is UNKNOWN:
        return []  # an earlier step decides where the file goes: the step itself finds out
    return access_issues(
        node=node,
        connection=connection,
        drive_id=str(drive_id or "").strip(),
        folder=folder_path(folder),
        language=language,
        correlation_id=str(correlation_id or ""),
    )


def fill_preflight(kind: str):
    template_checks = render_preflight(kind)

    def hook(
        *, node: dict, organization: Any, trigger_data: dict, language: str, correlation_id: Any = None
    ) -> list[dict]:
        issues = template_checks(node=node, organization=organization, trigger_data=trigger_data, language=language)
        issues = [*issues, *connection_issues(node, organization, language)]
        if any(i["severity"] == "blocking" for i in issues):
            return issues
        return [*issues, *_destination_issues(node, organization, trigger_data, language, correlation_id)]

    # The run's correlation id goes on the Graph calls (docg.executions.preflight passes it).
    hook.wants = ("correlation_id",)  # type: ignore[attr-defined]
    return hook


def send_mail_preflight(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    issues = recipient_issues(node=node, organization=organization, trigger_data=trigger_data, language=language)
    # Graph lists no "send as" rights cheaply: the mailbox's own address is the one a step may use.
    return sender_preflight(
        node=node,
        organization=organization,
        trigger_data=trigger_data,
        language=language,
        earlier=[*issues, *connection_issues(node, organization, language)],
        provider=Provider.MICROSOFT,
        name="Microsoft",
    )
