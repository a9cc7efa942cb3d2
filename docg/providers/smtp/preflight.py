"""What `smtp.send_email` adds to preflight: valid recipients and an SMTP connection to send with.

Addresses written in the node, and those an expression draws from the trigger
data, are checked now; an address only an earlier step produces is checked
when the step runs. A connection that exists but is inactive or expired is
reported by the generic check in docg.executions.preflight; this hook covers a
node with no connection, or with a connection to another provider.
"""

from docg.connectors.choices import Provider
from docg.providers.preflight_checks import chosen_connection, recipient_issues


def send_email_preflight(*, node: dict, organization, trigger_data: dict, language: str) -> list[dict]:
    issues = recipient_issues(node=node, organization=organization, trigger_data=trigger_data, language=language)
    connection_issues, _ = chosen_connection(
        node=node,
        organization=organization,
        provider=Provider.SMTP,
        name="SMTP",
        language=language,
        only_active=False,
    )
    return issues + connection_issues
