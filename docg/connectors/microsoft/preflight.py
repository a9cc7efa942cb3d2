"""What the Microsoft actions add to preflight (PRODUCT.md section 5).

- Word / PowerPoint: everything `docx.render` / `pptx.render` check (template
  exists, is the right kind, its lint errors via documents.selectors.template_issues,
  data resolves), plus a Microsoft connection to convert with.
- Outlook: every recipient address the node or the trigger data decides now is
  valid (`delivery.invalid_email`), plus a Microsoft connection to send with.

The connection check here covers what the generic check in
docg.executions.preflight does not: no connection chosen, a connection for
another provider, and a Microsoft sign-in that can no longer be used (access
token expired with no refresh token) → `oauth_expired`. Connections that are
inactive or marked expired are the generic check's.
"""

import time
import uuid
from typing import Any

from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.smtp.recipients import invalid_addresses, split_addresses
from docg.documents.rendering.preflight import render_preflight
from docg.workflows.expressions import ExpressionError, referenced_paths, render_value

ADDRESS_FIELDS = ("to", "cc", "bcc")
_KNOWN_NOW = ("trigger", "org")


def _pt(language: str) -> bool:
    return (language or "").lower().startswith("pt")


def _issue(code: str, domain: str, node: dict, message: str, tech: dict, **extra: Any) -> dict:
    return {
        "code": code,
        "severity": "blocking",
        "domain": domain,
        "node_key": node.get("key", ""),
        "message_human": message,
        "details_tech": tech,
        **extra,
    }


def _label(node: dict) -> str:
    return node.get("label") or node.get("key", "")


def _usable_sign_in(credentials: dict) -> bool:
    if credentials.get("refresh_token"):
        return True  # docg.connectors.oauth refreshes an expired access token with it
    expires_at = float(credentials.get("expires_at") or 0)
    return bool(credentials.get("access_token")) and (not expires_at or expires_at > time.time())


def connection_issues(node: dict, organization: Any, language: str) -> list[dict]:
    connection_id = node.get("connection")
    label = _label(node)
    if not connection_id:
        detail = "nenhuma conexão Microsoft escolhida" if _pt(language) else "no Microsoft connection is chosen"
    else:
        try:
            key = uuid.UUID(str(connection_id))
        except ValueError:
            return []  # not an id at all: the definition's own validation reports it
        connection = DataSourceConnection.objects.filter(organization=organization, pk=key).first()
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            return []  # missing rows, inactive and expired ones are the generic check's
        if connection.provider == Provider.MICROSOFT:
            if _usable_sign_in(connection.credentials or {}):
                return []
            message = (
                f"A conexão Microsoft '{connection.name}' usada pela etapa '{label}' expirou: conecte de novo."
                if _pt(language)
                else f"The Microsoft connection '{connection.name}' used by step '{label}' has expired: reconnect it."
            )
            return [_issue("oauth_expired", "permissions", node, message, {"connection": str(connection.pk)})]
        detail = (
            f"a conexão escolhida é de {connection.provider}, não Microsoft"
            if _pt(language)
            else f"the chosen connection is for {connection.provider}, not Microsoft"
        )
    message = (
        f"A conexão usada pela etapa '{label}' não está ativa: {detail}"
        if _pt(language)
        else f"The connection used by step '{label}' is not active: {detail}"
    )
    return [_issue("connection.inactive", "permissions", node, message, {"connection": connection_id or None})]


def fill_preflight(kind: str):
    template_checks = render_preflight(kind)

    def hook(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
        issues = template_checks(node=node, organization=organization, trigger_data=trigger_data, language=language)
        return [*issues, *connection_issues(node, organization, language)]

    return hook


def _expressions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if ("{{" in value or "{%" in value) else []
    if isinstance(value, list):
        return [v for item in value for v in _expressions(item)]
    return []


def _resolve(value: Any, context: dict) -> tuple[bool, Any]:
    """(known now, value): an expression over later steps' outputs cannot be checked yet."""
    for source in _expressions(value):
        if any(path.split(".")[0] not in _KNOWN_NOW for path in referenced_paths(source)):
            return False, None
    try:
        return True, render_value(value, context)
    except ExpressionError:
        return False, None  # a missing trigger field is reported as data.unresolved_variables


def send_mail_preflight(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    issues = []
    params = node.get("parameters") or {}
    context = {"trigger": trigger_data, "org": {"id": str(organization.pk), "name": organization.name}}
    for field in ADDRESS_FIELDS:
        known, value = _resolve(params.get(field), context)
        if not known:
            continue
        bad = invalid_addresses(value)
        if field == "to" and not bad and not split_addresses(value):
            bad = [""]  # "to" resolved to nothing: nobody would get the message
        if not bad:
            continue
        shown = ", ".join(repr(b) for b in bad)
        message = (
            f"Endereço de e-mail inválido em '{field}' na etapa '{_label(node)}': {shown}"
            if _pt(language)
            else f"Invalid e-mail address in '{field}' of step '{_label(node)}': {shown}"
        )
        issues.append(
            _issue(
                "delivery.invalid_email",
                "delivery",
                node,
                message,
                {"field": field, "invalid": bad, "expression": params.get(field)},
                location={"node_key": node.get("key", ""), "parameters": [field]},
            )
        )
    return [*issues, *connection_issues(node, organization, language)]
