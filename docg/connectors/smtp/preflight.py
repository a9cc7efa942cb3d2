"""What `smtp.send_email` adds to preflight: valid recipients and an SMTP connection to send with.

Addresses written in the node, and those an expression draws from the trigger
data, are checked now; an address only an earlier step produces is checked
when the step runs. A connection that exists but is inactive or expired is
reported by the generic check in docg.executions.preflight; this hook covers a
node with no connection, or with a connection to another provider.
"""

import uuid
from typing import Any

from docg.connectors.choices import Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.smtp.recipients import invalid_addresses, split_addresses
from docg.workflows.expressions import ExpressionError, referenced_paths, render_value

FIELDS = ("to", "cc", "bcc")
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


def send_email_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues = []
    params = node.get("parameters") or {}
    context = {"trigger": trigger_data, "org": {"id": str(organization.pk), "name": organization.name}}
    for field in FIELDS:
        known, value = _resolve(params.get(field), context)
        if not known:
            continue
        bad = invalid_addresses(value)
        if field == "to" and not bad and not split_addresses(value):
            bad = [""]  # "to" resolved to nothing: nobody would get the message
        if bad:
            shown = ", ".join(repr(b) for b in bad)
            message = (
                f"Endereço de e-mail inválido em '{field}' na etapa '{node.get('label') or node.get('key')}': {shown}"
                if _pt(language)
                else f"Invalid e-mail address in '{field}' of step '{node.get('label') or node.get('key')}': {shown}"
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
    issues.extend(_connection_issues(node, organization, language))
    return issues


def _connection_issues(node: dict, organization, language: str) -> list[dict]:
    connection_id = node.get("connection")
    if not connection_id:
        detail = "nenhuma conexão SMTP escolhida" if _pt(language) else "no SMTP connection is chosen"
    else:
        try:
            key = uuid.UUID(str(connection_id))
        except ValueError:
            return []  # not an id at all: the definition's own validation reports it
        provider = (
            DataSourceConnection.objects.filter(organization=organization, pk=key)
            .values_list("provider", flat=True)
            .first()
        )
        if provider is None or provider == Provider.SMTP:
            return []  # missing rows and inactive ones are the generic check's
        detail = (
            f"a conexão escolhida é de {provider}, não SMTP"
            if _pt(language)
            else f"the chosen connection is for {provider}, not SMTP"
        )
    label = node.get("label") or node.get("key", "")
    message = (
        f"A conexão usada pela etapa '{label}' não está ativa: {detail}"
        if _pt(language)
        else f"The connection used by step '{label}' is not active: {detail}"
    )
    return [_issue("connection.inactive", "permissions", node, message, {"connection": connection_id or None})]
