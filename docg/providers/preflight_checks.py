"""Preflight pieces the connectors share: issue shape, bilingual wording, the chosen connection, recipients.

A connector's preflight hook covers what the generic check in
docg.executions.preflight does not: no connection chosen, a connection for
another provider, and provider-specific settings. Values written in the node,
or drawn by an expression from the trigger data, are checked now; those only
an earlier step produces are checked when the step runs.
"""

import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.providers.recipients import invalid_addresses, split_addresses
from docg.workflows.expressions import ExpressionError, referenced_paths, render_value

ADDRESS_FIELDS = ("to", "cc", "bcc")
# Roots an expression may read before the run starts; anything else is a later step's output.
_KNOWN_NOW = ("trigger", "org")
# What resolve_now() answers for a value that cannot be known before the run.
UNKNOWN: Any = object()


def node_label(node: dict) -> str:
    """How a business user knows the step: its label, else its key."""
    return node.get("label") or node.get("key", "")


def blocking_issue(*, code: str, domain: str, node: dict, message: str, tech: dict, **extra: Any) -> dict:
    """A blocking preflight issue in the shape docg.executions.preflight reports."""
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


def resolve_now(*, value: Any, organization: Any, trigger_data: dict) -> Any:
    """The value before the run starts, or UNKNOWN when it depends on later steps or missing trigger fields."""
    for source in _expressions(value):
        if any(path.split(".")[0] not in _KNOWN_NOW for path in referenced_paths(source)):
            return UNKNOWN
    context = {"trigger": trigger_data, "org": {"id": str(organization.pk), "name": organization.name}}
    try:
        return render_value(value, context)
    except ExpressionError:
        return UNKNOWN  # a missing trigger field is reported as data.unresolved_variables


def inactive_connection_issue(*, node: dict, language: str, detail: str, connection_id: Any) -> dict:
    """`connection.inactive`: the step cannot use the connection it names, for the reason `detail`."""
    label = node_label(node)
    message = translated(
        _("The connection used by step '%(label)s' is not active: %(detail)s"), language, label=label, detail=detail
    )
    return blocking_issue(
        code="connection.inactive",
        domain="permissions",
        node=node,
        message=message,
        tech={"connection": connection_id or None},
    )


def chosen_connection(
    *,
    node: dict,
    organization: Any,
    provider: str,
    name: Any,
    language: str,
    only_active: bool,
) -> tuple[list[dict], DataSourceConnection | None]:
    """The node's connection for `provider` (`name`, gettext_lazy, says which in a sentence), or the issue blocking it.

    ([issue], None) when none is chosen or it is another provider's; ([], None)
    when the generic check owns the problem (not an id, a missing row, or, with
    `only_active`, a connection that is not active); ([], connection) otherwise.
    """
    connection_id = node.get("connection")
    if not connection_id:
        detail = translated(_("no %(name)s connection is chosen"), language, name=translated(name, language))
        return [inactive_connection_issue(node=node, language=language, detail=detail, connection_id=None)], None
    try:
        key = uuid.UUID(str(connection_id))
    except ValueError:
        return [], None  # not an id at all: the definition's own validation reports it
    connection = DataSourceConnection.objects.filter(organization=organization, pk=key).first()
    if connection is None or (only_active and connection.status != ConnectionStatus.ACTIVE):
        return [], None  # missing rows (and, when asked, inactive and expired ones) are the generic check's
    if connection.provider != provider:
        detail = translated(
            _("the chosen connection is for %(provider)s, not %(name)s"),
            language,
            provider=connection.provider,
            name=translated(name, language),
        )
        return [
            inactive_connection_issue(node=node, language=language, detail=detail, connection_id=connection_id)
        ], None
    return [], connection


def recipient_issues(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    """`delivery.invalid_email` for each of to/cc/bcc holding an invalid address (or an empty "to")."""
    issues = []
    params = node.get("parameters") or {}
    for field in ADDRESS_FIELDS:
        value = resolve_now(value=params.get(field), organization=organization, trigger_data=trigger_data)
        if value is UNKNOWN:
            continue
        bad = invalid_addresses(value)
        if field == "to" and not bad and not split_addresses(value):
            bad = [""]  # "to" resolved to nothing: nobody would get the message
        if not bad:
            continue
        shown = ", ".join(repr(b) for b in bad)
        message = translated(
            _("Invalid e-mail address in '%(field)s' of step '%(value)s': %(shown)s"),
            language,
            field=field,
            value=node_label(node),
            shown=shown,
        )
        issues.append(
            blocking_issue(
                code="delivery.invalid_email",
                domain="delivery",
                node=node,
                message=message,
                tech={"field": field, "invalid": bad, "expression": params.get(field)},
                location={"node_key": node.get("key", ""), "parameters": [field]},
            )
        )
    return issues
