"""What the Google actions add to preflight.

Every action: a Google connection is chosen (a node with none, or with another
provider's, is blocked as `connection.inactive`; one whose status is not active
or that has passed `expires_at` is reported by the generic check in
docg.executions.preflight) and it still holds a token (`oauth_expired`).
Docs/Slides: the template file id and folder id are not empty. Drive upload: the
folder id is not empty. Gmail: every recipient address is valid
(`delivery.invalid_email`). Values written in the node, or drawn by an
expression from the trigger data, are checked now; those only an earlier step
produces are checked when the step runs.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.connectors.choices import Provider
from docg.providers.preflight_checks import (
    UNKNOWN,
    blocking_issue,
    chosen_connection,
    node_label,
    recipient_issues,
    resolve_now,
)


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
    def check(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
        params = node.get("parameters") or {}
        values = {
            f: resolve_now(value=params.get(f), organization=organization, trigger_data=trigger_data) for f in fields
        }
        issues = [_empty_id_issue(node, f, values[f], language) for f in fields]
        return [i for i in issues if i] + connection_issues(node, organization, language)

    return check


fill_preflight = _ids_preflight("template_file_id", "folder_id")
upload_preflight = _ids_preflight("folder_id")


def gmail_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues = recipient_issues(node=node, organization=organization, trigger_data=trigger_data, language=language)
    return issues + connection_issues(node, organization, language)
