"""What `smtp.send_email` adds to preflight: valid recipients and an SMTP connection to send with.

Addresses written in the node, and those an expression draws from the trigger
data, are checked now; an address only an earlier step produces is checked
when the step runs. A connection that exists but is inactive or expired is
reported by the generic check in docg.executions.preflight; this hook covers a
node with no connection, or with a connection to another provider, and a step
sender the connection was not set up to send as (docg/providers/sender_check.py).
"""

from docg.connectors.choices import Provider
from docg.providers.preflight_checks import chosen_connection, recipient_issues
from docg.providers.sender_check import sender_issues


def send_email_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues = recipient_issues(node=node, organization=organization, trigger_data=trigger_data, language=language)
    connection_issues, connection = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.SMTP,
        name="SMTP",
        language=language,
        only_active=False,
    )
    if connection_issues or connection is None:
        return issues + connection_issues
    # The server decides who may send; docg knows what the connection was set up with: its From address
    # and the extra addresses listed in its `allowed_from`.
    credentials = connection.credentials or {}
    return issues + sender_issues(
        node=node,
        organization=organization,
        trigger_data=trigger_data,
        language=language,
        connection=connection,
        account=str(credentials.get("from_email") or credentials.get("username") or ""),
        also=allowed_from(connection),
    )


def allowed_from(connection) -> list[str]:
    """The extra sender addresses an SMTP connection lists (`allowed_from`: a list, or one comma-separated string)."""
    value = (connection.config or {}).get("allowed_from") or (connection.credentials or {}).get("allowed_from") or []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()] if isinstance(value, list) else []
