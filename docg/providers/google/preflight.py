"""What the Google actions add to preflight.

Every action: a Google connection is chosen (a node with none, or with another
provider's, is blocked as `connection.inactive`; one whose status is not active
or that has passed `expires_at` is reported by the generic check in
docg.executions.preflight) and it still holds a token (`oauth_expired`).
Docs/Slides: the template file id and folder id are not empty, and Drive says the
connection may copy the template and add files to the folder (drive_access.py,
cached briefly per connection). Drive upload: the same for the folder. Gmail: every recipient address is valid
(`delivery.invalid_email`), and a step's sender is the account or one of its
verified send-as aliases (docg/providers/sender_check.py). Values written in the node, or drawn by an
expression from the trigger data, are checked now; those only an earlier step
produces are checked when the step runs.
"""

import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.connectors.choices import Provider
from docg.connectors.oauth import fresh_access_token
from docg.providers.google.client import GoogleClient
from docg.providers.google.drive_access import PREFLIGHT_TIMEOUT_SECONDS, file_issues, scope_issues
from docg.providers.preflight_checks import (
    UNKNOWN,
    blocking_issue,
    chosen_connection,
    node_label,
    recipient_issues,
    resolve_now,
)
from docg.providers.sender_check import sender_preflight


def connection_issues(node: dict, organization, language: str) -> list[dict]:
    issues, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.GOOGLE,
        name="Google",
        language=language,
        only_active=False,
    )
    if connection is None:
        return issues
    credentials = connection.credentials or {}
    if connection.status == "active" and not (credentials.get("access_token") or credentials.get("refresh_token")):
        message = translated(
            _("The Google connection used by step '%(value)s' has expired: reconnect it."),
            language,
            value=node_label(node),
        )
        tech = {"connection": node.get("connection")}
        return [blocking_issue(code="oauth_expired", domain="permissions", node=node, message=message, tech=tech)]
    return []


def _empty_id_issue(node: dict, field: str, value: Any, language: str) -> dict | None:
    if value is UNKNOWN or str(value or "").strip():
        return None
    if field == "template_file_id":
        message = translated(
            _("Step '%(value)s' has no Google template file: choose one."), language, value=node_label(node)
        )
        code, domain = "template.not_found", "template"
    else:
        message = translated(
            _("Step '%(value)s' has no Google Drive destination folder: choose one."), language, value=node_label(node)
        )
        code, domain = "delivery.folder_missing", "delivery"
    return blocking_issue(
        code=code, domain=domain, node=node, message=message, tech={"field": field}, location={"parameters": [field]}
    )


def _ids_preflight(*fields: str):
    def check(*, node: dict, organization, trigger_data: dict, language: str, correlation_id: Any = None) -> list[dict]:
        params = node.get("parameters") or {}
        values = {
            f: resolve_now(value=params.get(f), organization=organization, trigger_data=trigger_data) for f in fields
        }
        issues = [i for i in (_empty_id_issue(node, f, values[f], language) for f in fields) if i]
        issues += connection_issues(node, organization, language)
        if issues:
            return issues
        return _access_issues(node, organization, language, values, correlation_id)

    # The run's correlation id goes on the Drive calls (docg.executions.preflight passes it).
    check.wants = ("correlation_id",)  # type: ignore[attr-defined]
    return check


def _access_issues(node: dict, organization, language: str, values: dict[str, Any], correlation_id: Any) -> list[dict]:
    """Ask Drive (cached briefly) whether the connection can copy the template and write to the folder."""
    _none, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.GOOGLE,
        name="Google",
        language=language,
        only_active=True,
    )
    if connection is None:
        return []
    issues = scope_issues(node=node, connection=connection, language=language)
    if issues:
        return issues
    for field, value in values.items():
        if value is UNKNOWN:
            continue  # an earlier step decides it: the step itself finds out
        issues += file_issues(
            node=node,
            connection=connection,
            field=field,
            file_id=str(value).strip(),
            language=language,
            folder=field == "folder_id",
            correlation_id=str(correlation_id or ""),
        )
    return issues


fill_preflight = _ids_preflight("template_file_id", "folder_id")
upload_preflight = _ids_preflight("folder_id")


def gmail_preflight(
    *, node: dict, organization, trigger_data: dict, language: str, correlation_id: Any = None
) -> list[dict]:
    issues = recipient_issues(node=node, organization=organization, trigger_data=trigger_data, language=language)

    def aliases(connection):
        def ask() -> list[str]:
            token = fresh_access_token(connection=connection)
            client = GoogleClient(
                access_token=token,
                correlation_id=str(correlation_id or uuid.uuid4()),
                timeout=PREFLIGHT_TIMEOUT_SECONDS,
            )
            return client.gmail_send_as()

        return ask

    return sender_preflight(
        node=node,
        organization=organization,
        trigger_data=trigger_data,
        language=language,
        earlier=issues + connection_issues(node, organization, language),
        provider=Provider.GOOGLE,
        name="Google",
        aliases=aliases,
    )


# The run's correlation id goes on the Gmail call (docg.executions.preflight passes it).
gmail_preflight.wants = ("correlation_id",)  # type: ignore[attr-defined]
