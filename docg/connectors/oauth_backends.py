"""social-core backends for connecting HubSpot, Google and Microsoft accounts to an organization.

Why subclasses of social-core's backends rather than settings overrides: the
upstream classes hard-code their token and profile URLs (only the authorize and
token URLs can be overridden through settings, the profile URLs cannot). Ours
read every provider endpoint from `settings.CONNECTOR_API_ROOTS` at call time,
so operators can point them at a proxy and tests at a loopback fake with the
`settings` fixture.

All three are `ASSOCIATION_ONLY`: a flow can only start for a logged-in docg
user and its state is bound to that user, so these backends can never sign
anyone in or create an account. The state parameter is on (social-core's
default); PKCE (S256) is on for Google and Microsoft, which support it for
confidential web clients. HubSpot's authorization server does not document
PKCE, so it relies on state plus the client secret.
"""

from typing import Any

from django.conf import settings
from django.urls import reverse
from social_core.backends.google import GoogleOAuth2
from social_core.backends.hubspot import HubSpotOAuth2
from social_core.backends.microsoft import MicrosoftOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE


def api_root(name: str) -> str:
    return settings.CONNECTOR_API_ROOTS[name].rstrip("/")


class ConnectMixin:
    ASSOCIATION_ONLY = True
    STATE_PARAMETER = True
    # The redirect URI must match the registered one exactly: no redirect_state query parameter.
    REDIRECT_STATE = False
    # The docg provider this backend connects (DataSourceConnection.provider).
    provider = ""

    def get_redirect_uri(self, state: str | None = None) -> str:
        # Built from FRONTEND_URL, not the request's Host (a proxy may rewrite it; the provider compares exactly).
        return settings.OAUTH_REDIRECT_BASE_URL.rstrip("/") + reverse("social:complete", args=[self.name])

    def token_url(self) -> str:
        raise NotImplementedError

    def access_token_url(self) -> str:
        return self.token_url()


class HubSpotConnect(ConnectMixin, HubSpotOAuth2):
    name = "hubspot"
    provider = "hubspot"
    # Data the pipeline reads from the profile response; tokens are never stored here.
    EXTRA_DATA = [("hub_id", "hub_id"), ("hub_domain", "hub_domain")]

    def token_url(self) -> str:
        return f"{api_root('hubspot')}/oauth/v1/token"

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """GET /oauth/v1/access-tokens/{token}: hub_id (the portal), user, scopes."""
        response = self.get_json(
            f"{api_root('hubspot')}/oauth/v1/access-tokens/{access_token}",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response is not None and response.get("hub_id") not in (None, "") and response.get("user_id"):
            response["hubspot_identity"] = f"{response['hub_id']}:{response['user_id']}"
        return response

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        return {"email": response.get("user") or "", "username": response.get("user") or ""}


class GoogleConnect(ConnectMixin, GoogleOAuth2, BaseOAuth2PKCE):
    name = "google"
    provider = "google"
    EXTRA_DATA = [("sub", "sub")]

    def token_url(self) -> str:
        return f"{api_root('google_oauth')}/token"

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """GET /oauth2/v3/userinfo: the account's stable `sub` and email."""
        return self.get_json(
            f"{api_root('google_drive')}/oauth2/v3/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )


class MicrosoftConnect(ConnectMixin, MicrosoftOAuth2, BaseOAuth2PKCE):
    name = "microsoft"
    provider = "microsoft"
    EXTRA_DATA: list = []

    def _tenant(self) -> str:
        return str(self.setting("TENANT", "common") or "common")

    def authorization_url(self) -> str:
        return f"{api_root('microsoft_login')}/{self._tenant()}/oauth2/v2.0/authorize"

    def token_url(self) -> str:
        return f"{api_root('microsoft_login')}/{self._tenant()}/oauth2/v2.0/token"

    def auth_complete(self, *args: Any, **kwargs: Any):
        # MicrosoftOAuth2.auth_complete skips the association-only state check and PKCE; the base flow does both.
        return BaseOAuth2PKCE.auth_complete(self, *args, **kwargs)

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """GET /v1.0/me: id, userPrincipalName, mail."""
        return self.get_json(
            f"{api_root('microsoft_graph')}/v1.0/me",
            headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"},
        )


BACKENDS = {cls.provider: cls for cls in (HubSpotConnect, GoogleConnect, MicrosoftConnect)}
