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

import uuid
from typing import Any

from docg.connectors.choices import Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.smtp.recipients import invalid_addresses, split_addresses
from docg.workflows.expressions import ExpressionError, referenced_paths, render_value

_KNOWN_NOW = ("trigger", "org")
_UNKNOWN = object()


def _pt(language: str) -> bool:
    return (language or "").lower().startswith("pt")


def _say(language: str, english: str, portuguese: str) -> str:
    return portuguese if _pt(language) else english


def _label(node: dict) -> str:
    return node.get("label") or node.get("key", "")


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


def _resolve(value: Any, context: dict) -> Any:
    """The value now, or _UNKNOWN when it depends on later steps or on trigger fields that are missing."""
    for source in _expressions(value):
        if any(path.split(".")[0] not in _KNOWN_NOW for path in referenced_paths(source)):
            return _UNKNOWN
    try:
        return render_value(value, context)
    except ExpressionError:
        return _UNKNOWN  # a missing trigger field is reported as data.unresolved_variables


def _context(organization, trigger_data: dict) -> dict:
    return {"trigger": trigger_data, "org": {"id": str(organization.pk), "name": organization.name}}


def connection_issues(node: dict, organization, language: str) -> list[dict]:
    connection_id = node.get("connection")
    if not connection_id:
        detail = _say(language, "no Google connection is chosen", "nenhuma conexão Google escolhida")
        return [_inactive(node, language, detail, None)]
    try:
        key = uuid.UUID(str(connection_id))
    except ValueError:
        return []  # not an id at all: the definition's own validation reports it
    connection = DataSourceConnection.objects.filter(organization=organization, pk=key).first()
    if connection is None:
        return []  # a deleted connection is the generic check's
    if connection.provider != Provider.GOOGLE:
        detail = _say(
            language,
            f"the chosen connection is for {connection.provider}, not Google",
            f"a conexão escolhida é de {connection.provider}, não Google",
        )
        return [_inactive(node, language, detail, connection_id)]
    credentials = connection.credentials or {}
    if connection.status == "active" and not (credentials.get("access_token") or credentials.get("refresh_token")):
        message = _say(
            language,
            f"The Google connection used by step '{_label(node)}' has expired: reconnect it.",
            f"A conexão Google usada pela etapa '{_label(node)}' expirou: conecte de novo.",
        )
        return [_issue("oauth_expired", "permissions", node, message, {"connection": connection_id})]
    return []


def _inactive(node: dict, language: str, detail: str, connection_id: Any) -> dict:
    message = _say(
        language,
        f"The connection used by step '{_label(node)}' is not active: {detail}",
        f"A conexão usada pela etapa '{_label(node)}' não está ativa: {detail}",
    )
    return _issue("connection.inactive", "permissions", node, message, {"connection": connection_id})


def _empty_id_issue(node: dict, field: str, value: Any, language: str) -> dict | None:
    if value is _UNKNOWN or str(value or "").strip():
        return None
    if field == "template_file_id":
        message = _say(
            language,
            f"Step '{_label(node)}' has no Google template file: choose one.",
            f"A etapa '{_label(node)}' não tem um arquivo-modelo do Google: escolha um.",
        )
        return _issue(
            "template.not_found", "template", node, message, {"field": field}, location={"parameters": [field]}
        )
    message = _say(
        language,
        f"Step '{_label(node)}' has no Google Drive destination folder: choose one.",
        f"A etapa '{_label(node)}' não tem uma pasta de destino no Google Drive: escolha uma.",
    )
    return _issue(
        "delivery.folder_missing", "delivery", node, message, {"field": field}, location={"parameters": [field]}
    )


def _ids_preflight(*fields: str):
    def check(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
        params = node.get("parameters") or {}
        context = _context(organization, trigger_data)
        issues = [_empty_id_issue(node, f, _resolve(params.get(f), context), language) for f in fields]
        return [i for i in issues if i] + connection_issues(node, organization, language)

    return check


fill_preflight = _ids_preflight("template_file_id", "folder_id")
upload_preflight = _ids_preflight("folder_id")


def gmail_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues = []
    params = node.get("parameters") or {}
    context = _context(organization, trigger_data)
    for field in ("to", "cc", "bcc"):
        value = _resolve(params.get(field), context)
        if value is _UNKNOWN:
            continue
        bad = invalid_addresses(value)
        if field == "to" and not bad and not split_addresses(value):
            bad = [""]  # "to" resolved to nothing: nobody would get the message
        if bad:
            shown = ", ".join(repr(b) for b in bad)
            message = _say(
                language,
                f"Invalid e-mail address in '{field}' of step '{_label(node)}': {shown}",
                f"Endereço de e-mail inválido em '{field}' na etapa '{_label(node)}': {shown}",
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
    return issues + connection_issues(node, organization, language)
