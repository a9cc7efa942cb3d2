"""What `ai.extract` adds to preflight: an AI connection with a base URL and an API key.

A connection that exists but is inactive or expired is reported by the generic
check in docg.executions.preflight; this hook covers a node with no
connection, a connection to another provider, or one missing its settings.
"""

import uuid

from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection


def _pt(language: str) -> bool:
    return (language or "").lower().startswith("pt")


def extract_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    connection_id = node.get("connection")
    if not connection_id:
        detail = "nenhuma conexão de IA escolhida" if _pt(language) else "no AI connection is chosen"
    else:
        try:
            key = uuid.UUID(str(connection_id))
        except ValueError:
            return []  # not an id at all: the definition's own validation reports it
        connection = DataSourceConnection.objects.filter(organization=organization, pk=key).first()
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            return []  # missing rows and inactive ones are the generic check's
        if connection.provider != Provider.AI:
            detail = (
                f"a conexão escolhida é de {connection.provider}, não de IA"
                if _pt(language)
                else f"the chosen connection is for {connection.provider}, not AI"
            )
        else:
            missing = [
                name
                for name, value in (
                    ("base_url", (connection.config or {}).get("base_url")),
                    ("api_key", (connection.credentials or {}).get("api_key")),
                )
                if not str(value or "").strip()
            ]
            if not missing:
                return []
            detail = f"falta {', '.join(missing)} na conexão" if _pt(language) else f"it has no {', '.join(missing)}"
    label = node.get("label") or node.get("key", "")
    message = (
        f"A conexão usada pela etapa '{label}' não está ativa: {detail}"
        if _pt(language)
        else f"The connection used by step '{label}' is not active: {detail}"
    )
    return [
        {
            "code": "connection.inactive",
            "severity": "blocking",
            "domain": "permissions",
            "node_key": node.get("key", ""),
            "message_human": message,
            "details_tech": {"connection": connection_id or None},
        }
    ]
