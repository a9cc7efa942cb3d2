"""What `ai.extract` adds to preflight: an AI connection with a base URL and an API key.

A connection that exists but is inactive or expired is reported by the generic
check in docg.executions.preflight; this hook covers a node with no
connection, a connection to another provider, or one missing its settings.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from docg.common.errors import translated
from docg.connectors.choices import Provider
from docg.providers.preflight_checks import chosen_connection, inactive_connection_issue


def extract_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.AI,
        name=pgettext_lazy("connection kind", "AI"),
        language=language,
        only_active=True,
    )
    if connection is None:
        return issues
    settings = (
        ("base_url", (connection.config or {}).get("base_url")),
        ("api_key", (connection.credentials or {}).get("api_key")),
    )
    missing = ", ".join(name for name, value in settings if not str(value or "").strip())
    if not missing:
        return []
    detail = translated(_("it has no %(missing)s"), language, missing=missing)
    return [
        inactive_connection_issue(node=node, language=language, detail=detail, connection_id=node.get("connection"))
    ]
