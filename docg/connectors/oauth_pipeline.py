"""social-auth pipeline steps that turn a finished OAuth flow into an encrypted DataSourceConnection.

The connection belongs to the organization the user was working in when they
clicked "Connect" (kept in the session by the connect view) and needs a writer
role there. social-auth would keep the tokens in UserSocialAuth.extra_data, in
plain JSON: here only non-secret ids are written there, and any token found on
the provider account's rows is scrubbed after the connection is saved.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from social_django.models import UserSocialAuth

from docg.connectors import services
from docg.connectors.oauth import token_credentials
from docg.orgs import tenancy
from docg.orgs.models import Membership

logger = logging.getLogger(__name__)

# Where the connect view keeps the flow's organization (and the connection being renewed).
SESSION_KEY = "docg_oauth_connect"
TOKEN_KEYS = ("access_token", "refresh_token", "id_token", "token", "expires", "auth_time")


def connections_url() -> str:
    for name in ("dashboard:connections", "dashboard:home"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/"


def _refuse(strategy, message: str):
    messages.error(strategy.request, message)
    return redirect(connections_url())


def _membership(strategy, backend, user) -> Membership | None:
    pending = strategy.session_get(SESSION_KEY) or {}
    if isinstance(pending, dict) and pending.get("provider") == backend.provider and pending.get("organization_id"):
        return tenancy.membership_find(user=user, organization_id=pending["organization_id"])
    return tenancy.session_membership(strategy.request)


def require_connecting_writer(strategy, backend, user=None, *args: Any, **kwargs: Any):
    """Only a logged-in writer of an organization connects accounts; nobody signs in or up through a provider."""
    if user is None or not user.is_authenticated:
        return _refuse(strategy, _("Log in to docg before connecting an account."))
    membership = _membership(strategy, backend, user)
    if not tenancy.can_manage(membership):
        return _refuse(strategy, _("Your role cannot add connections to this organization."))
    return {"membership": membership}


def _safe_extra(backend, response: dict[str, Any]) -> dict[str, Any]:
    keep = {name for name, *_ in getattr(backend, "EXTRA_DATA", [])}
    return {k: v for k, v in response.items() if k in keep and k not in TOKEN_KEYS}


def link_social_account(backend, uid, user=None, response=None, *args: Any, **kwargs: Any):
    """Remember which docg user linked which provider account, without its tokens.

    The same provider account may be connected by several docg users (one per organization,
    say): the first link stays; later ones only add connections.
    """
    social, _created = UserSocialAuth.objects.get_or_create(
        provider=backend.name, uid=str(uid), defaults={"user": user, "extra_data": _safe_extra(backend, response or {})}
    )
    return {"social": social if social.user_id == user.pk else None}


def _account(provider: str, response: dict[str, Any]) -> tuple[dict[str, Any], list[str], str]:
    """(config, scopes, label) from the provider's token + profile answer."""
    if provider == "hubspot":
        config = {
            "portal_id": str(response.get("hub_id") or ""),
            "hub_domain": response.get("hub_domain") or "",
            "account": response.get("user") or "",
        }
        scopes = [str(s) for s in response.get("scopes") or []]
        return config, scopes, config["hub_domain"] or config["portal_id"]
    if provider == "google":
        config = {"account": response.get("email") or ""}
        return config, str(response.get("scope") or "").split(), config["account"]
    account = response.get("mail") or response.get("userPrincipalName") or ""
    return {"account": account}, str(response.get("scope") or "").split(), account


def scrub_social_tokens(*, provider: str, uid: str) -> None:
    """Drop any token social-auth (or anything else) left in plain JSON on the account's rows."""
    for social in UserSocialAuth.objects.filter(provider=provider, uid=uid):
        clean = {k: v for k, v in (social.extra_data or {}).items() if k not in TOKEN_KEYS}
        if clean != social.extra_data:
            social.extra_data = clean
            social.save(update_fields=["extra_data", "modified"])


def store_connection(strategy, backend, uid, user=None, response=None, membership=None, *args: Any, **kwargs: Any):
    """Create or renew the organization's connection with the tokens encrypted, then scrub social-auth's copy."""
    response = response or {}
    credentials = token_credentials(response)
    config, scopes, label = _account(backend.provider, response)
    expires_at = None
    if not credentials["refresh_token"] and credentials["expires_at"]:
        # Without a refresh token the connection itself dies with the access token: preflight should know.
        expires_at = datetime.fromtimestamp(credentials["expires_at"], tz=UTC)
    pending = strategy.session_get(SESSION_KEY) or {}
    connection, created = services.connection_connect_oauth(
        organization=membership.organization,
        by=user,
        provider=backend.provider,
        account_id=str(uid),
        name=f"{backend.title} {label}".strip()[:200],
        credentials=credentials,
        config=config,
        scopes=scopes,
        expires_at=expires_at,
        connection_id=pending.get("connection_id") if isinstance(pending, dict) else None,
    )
    scrub_social_tokens(provider=backend.name, uid=str(uid))
    strategy.session_pop(SESSION_KEY)
    logger.info(
        "OAuth connection %s %s for organization %s",
        connection.pk,
        "created" if created else "renewed",
        membership.organization_id,
    )
    text = _("%(name)s is connected.") if created else _("%(name)s is connected again.")
    messages.success(strategy.request, text % {"name": connection.name})
    return redirect(connections_url())
