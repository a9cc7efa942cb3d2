"""The `delivery` domain of preflight for e-mail steps: may the step send from its sender address?

An e-mail step may name its sender (`sender`, "Name <address>" or an address);
left empty, the connection sends from its own address. Preflight checks a named
sender against what the connection may send as, before anything is rendered:
- Gmail: the account's address or one of its send-as aliases Gmail has
  verified (`users.settings.sendAs.list`, asked only when the sender is not the
  account itself);
- Outlook (Graph): the mailbox's own address; Graph cannot list "send as"
  rights cheaply, so any other address is refused here rather than by Graph
  after the documents were made;
- SMTP: the connection's From address and the addresses listed in its
  `allowed_from`.
A provider's answer is cached CACHE_SECONDS per connection, like the Drive and
Graph permission checks; an answer the provider may get over (429, 5xx, a
timeout) is not cached and only warns.
"""

from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.connectors.models import DataSourceConnection
from docg.providers.preflight_checks import UNKNOWN, blocking_issue, chosen_connection, node_label, resolve_now
from docg.providers.recipients import is_valid_email

CACHE_SECONDS = 60
FIELD = "sender"


def connection_account(connection: DataSourceConnection | None) -> str:
    """The address an OAuth connection signed in as ("" when docg was not told)."""
    config = (connection.config or {}) if connection is not None else {}
    return str(config.get("email") or config.get("account") or "")


def step_sender(params: dict, default: str) -> str:
    """What an e-mail step sends as: its `sender`, else the connection's own address."""
    return str(params.get(FIELD) or "").strip() or default


def sender_address(value: Any) -> str:
    """The address of a "Name <address>" or bare-address sender, lower-cased ("" for none)."""
    return parseaddr(str(value or "").strip())[1].strip().lower()


def allowed_senders(*, connection: DataSourceConnection, ask: Callable[[], list[str]]) -> dict[str, Any]:
    """{"addresses": [...]} or {"error", "transient", "status"}; cached CACHE_SECONDS per connection."""
    key = f"docg:preflight:senders:{connection.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        answer: dict[str, Any] = {"addresses": sorted({a.strip().lower() for a in ask() if a and a.strip()})}
    except DocgError as exc:
        answer = {"error": exc.code, "transient": exc.transient, "status": exc.details.get("status_code")}
        if exc.transient:
            return answer
    cache.set(key, answer, CACHE_SECONDS)
    return answer


def _issue(code: str, node: dict, message: str, tech: dict, *, domain: str = "delivery", **extra: Any) -> dict:
    issue = blocking_issue(
        code=code, domain=domain, node=node, message=message, tech=tech, location={"parameters": [FIELD]}
    )
    issue.update(extra)
    return issue


def _answer_issue(answer: dict, *, node: dict, connection, sender: str, account: str, language: str) -> dict:
    label, tech = node_label(node), {"connection": str(connection.pk), "sender": sender, **answer}
    if answer.get("transient"):
        message = translated(
            _(
                "Connection '%(connection)s' did not say whether step '%(label)s' may send as %(sender)s; "
                "the step will find out."
            ),
            language,
            connection=connection.name,
            label=label,
            sender=sender,
        )
        return _issue("delivery.sender_unchecked", node, message, tech, severity="warning")
    if answer["error"] == "oauth_expired":
        message = translated(
            _("The connection of step '%(label)s' was refused by the provider: reconnect it."), language, label=label
        )
        return _issue("oauth_expired", node, message, tech, domain="permissions")
    if answer.get("status") == 404:
        message = translated(
            _(
                "The account of connection '%(connection)s' has no mailbox to send step '%(label)s' from: "
                "connect an account that has one."
            ),
            language,
            connection=connection.name,
            label=label,
        )
        return _issue("delivery.mailbox_missing", node, message, tech)
    message = translated(
        _(
            "docg may not read which addresses connection '%(connection)s' can send as, so step '%(label)s' "
            "cannot be checked to send as %(sender)s: reconnect it allowing every permission asked, or send "
            "from %(account)s."
        ),
        language,
        connection=connection.name,
        label=label,
        sender=sender,
        account=account or "?",
    )
    return _issue("permissions.scope_missing", node, message, tech, domain="permissions")


def sender_issues(
    *,
    node: dict,
    organization: Any,
    trigger_data: dict,
    language: str,
    connection: DataSourceConnection | None,
    account: str,
    ask: Callable[[], list[str]] | None = None,
    also: list[str] | None = None,
) -> list[dict]:
    """What stops the step sending as its `sender` on `connection` (`account`: the connection's own address).

    `ask` lists the other addresses the connection may send as (a provider call, cached);
    `also` lists those the connection's own settings allow (no call).
    """
    params = node.get("parameters") or {}
    value = resolve_now(value=params.get(FIELD), organization=organization, trigger_data=trigger_data)
    if value is UNKNOWN or not str(value or "").strip() or connection is None:
        return []  # the connection's own address, or one an earlier step decides (the step checks it)
    sender, account = sender_address(value), sender_address(account)
    if not is_valid_email(sender):
        message = translated(
            _("The sender of step '%(label)s' is not a valid e-mail address: %(value)s"),
            language,
            label=node_label(node),
            value=repr(str(value)),
        )
        return [_issue("delivery.invalid_email", node, message, {"field": FIELD, "invalid": [str(value)]})]
    if sender == account:
        return []
    allowed = [sender_address(a) for a in also or []]
    if ask is not None:
        answer = allowed_senders(connection=connection, ask=ask)
        if "error" in answer:
            return [
                _answer_issue(
                    answer, node=node, connection=connection, sender=sender, account=account, language=language
                )
            ]
        allowed += answer["addresses"]
    if sender in allowed:
        return []
    message = translated(
        _(
            "Connection '%(connection)s' may not send as %(sender)s (step '%(label)s'): send from %(allowed)s, "
            "or leave the sender empty."
        ),
        language,
        connection=connection.name,
        sender=sender,
        label=node_label(node),
        allowed=", ".join(sorted({account, *allowed} - {""})) or "?",
    )
    tech = {"connection": str(connection.pk), "sender": sender, "account": account, "allowed": allowed}
    return [_issue("delivery.sender_not_allowed", node, message, tech)]


def sender_preflight(
    *,
    node: dict,
    organization: Any,
    trigger_data: dict,
    language: str,
    earlier: list[dict],
    provider: str,
    name: str,
    aliases: Callable[[DataSourceConnection], Callable[[], list[str]]] | None = None,
) -> list[dict]:
    """An OAuth e-mail step's `earlier` issues, then its sender's once nothing earlier blocks.

    `aliases(connection)` gives the call that lists the account's other addresses (None: there are none).
    """
    if any(i["severity"] == "blocking" for i in earlier):
        return earlier
    _none, connection = chosen_connection(
        node=node, organization=organization, provider=provider, name=name, language=language, only_active=True
    )
    return earlier + sender_issues(
        node=node,
        organization=organization,
        trigger_data=trigger_data,
        language=language,
        connection=connection,
        account=connection_account(connection),
        ask=aliases(connection) if aliases is not None and connection is not None else None,
    )
