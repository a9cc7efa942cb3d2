"""Connecting HubSpot / Google / Microsoft through OAuth: state, PKCE, encrypted tokens, nothing left in plain JSON."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db
from django.test import Client

from docg.audit.models import AuditEvent
from docg.connectors.models import DataSourceConnection

pytestmark = pytest.mark.django_db

ACCESS, REFRESH = "hub-access-tok-123", "hub-refresh-tok-456"


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _authorize(client: Client, provider: str, **query) -> dict[str, str]:
    response = client.get(f"/oauth/connect/{provider}/", query)
    assert response.status_code == 302, response.content
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _hubspot_routes(fake, *, access=ACCESS, refresh=REFRESH, hub_id=62515):
    fake.on(
        "POST",
        "/hubspot/oauth/v1/token",
        body={"access_token": access, "refresh_token": refresh, "expires_in": 1800, "token_type": "bearer"},
    )
    fake.on(
        "GET",
        f"/hubspot/oauth/v1/access-tokens/{access}",
        body={
            "token": access,
            "user": "owner@acme.test",
            "hub_domain": "acme.hubspot.com",
            "scopes": ["oauth", "crm.objects.deals.read", "crm.objects.contacts.read"],
            "hub_id": hub_id,
            "app_id": 999,
            "expires_in": 1800,
            "user_id": 77,
            "token_type": "access",
        },
    )


def _no_token_in_social_rows(*tokens: str) -> None:
    with db.cursor() as cursor:
        cursor.execute("SELECT extra_data::text FROM social_auth_usersocialauth")
        rows = [r[0] for r in cursor.fetchall()]
    for token in tokens:
        assert all(token not in row for row in rows), rows


def test_it_connects_hubspot_with_tokens_encrypted_and_scrubbed(cast, provider_api, settings):
    _hubspot_routes(provider_api)
    client = _browser(cast.alice)
    params = _authorize(client, "hubspot")
    assert params["client_id"] == "hub-client"
    assert params["redirect_uri"] == settings.OAUTH_REDIRECT_BASE_URL + "/oauth/complete/hubspot/"
    assert "crm.objects.deals.read" in params["scope"].split()
    assert len(params["state"]) >= 32

    response = client.get("/oauth/complete/hubspot/", {"code": "the-code", "state": params["state"]})
    assert response.status_code == 302, response.content

    token_call = provider_api.calls("POST", "/hubspot/oauth/v1/token")[0]
    assert token_call.form == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": params["redirect_uri"],
        "client_id": "hub-client",
        "client_secret": "hub-secret",
    }
    profile = provider_api.calls("GET", f"/hubspot/oauth/v1/access-tokens/{ACCESS}")[0]
    assert profile.headers["authorization"] == f"Bearer {ACCESS}"

    connection = DataSourceConnection.objects.get(organization=cast.acme, provider="hubspot")
    assert connection.status == "active"
    assert connection.config["portal_id"] == "62515"
    assert connection.config["hub_domain"] == "acme.hubspot.com"
    assert connection.credentials["access_token"] == ACCESS
    assert connection.credentials["refresh_token"] == REFRESH
    assert connection.credentials["expires_at"] > 0
    assert "crm.objects.deals.read" in connection.scopes
    assert connection.created_by == cast.alice
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connectors_datasourceconnection WHERE id = %s", [connection.pk])
        raw = cursor.fetchone()[0]
    assert ACCESS not in raw and REFRESH not in raw
    _no_token_in_social_rows(ACCESS, REFRESH)
    assert AuditEvent.objects.filter(action="connection.created", target_id=str(connection.pk)).count() == 1


def test_reconnecting_the_same_portal_renews_the_connection(cast, provider_api):
    _hubspot_routes(provider_api)
    client = _browser(cast.alice)
    state = _authorize(client, "hubspot")["state"]
    client.get("/oauth/complete/hubspot/", {"code": "c1", "state": state})
    first = DataSourceConnection.objects.get(provider="hubspot")
    DataSourceConnection.objects.filter(pk=first.pk).update(status="expired")

    _hubspot_routes(provider_api, access="hub-access-2", refresh="hub-refresh-2")
    state = _authorize(client, "hubspot", connection=str(first.pk))["state"]
    client.get("/oauth/complete/hubspot/", {"code": "c2", "state": state})

    assert DataSourceConnection.objects.filter(provider="hubspot").count() == 1
    renewed = DataSourceConnection.objects.get(pk=first.pk)
    assert renewed.status == "active"
    assert renewed.credentials["access_token"] == "hub-access-2"
    _no_token_in_social_rows(ACCESS, REFRESH, "hub-access-2", "hub-refresh-2")


def test_google_uses_pkce_and_state(cast, provider_api):
    provider_api.on(
        "POST",
        "/google-oauth/token",
        body={
            "access_token": "ya29.google-access",
            "refresh_token": "1//google-refresh",
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": "openid https://www.googleapis.com/auth/drive",
        },
    )
    provider_api.on(
        "GET",
        "/googleapis/oauth2/v3/userinfo",
        body={"sub": "1100220033", "email": "alice@acme.test", "email_verified": True},
    )
    client = _browser(cast.alice)
    params = _authorize(client, "google")
    assert params["code_challenge_method"] == "S256"
    assert params["access_type"] == "offline"

    response = client.get("/oauth/complete/google/", {"code": "g-code", "state": params["state"]})
    assert response.status_code == 302

    form = provider_api.calls("POST", "/google-oauth/token")[0].form
    verifier = form["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == params["code_challenge"]
    userinfo = provider_api.calls("GET", "/googleapis/oauth2/v3/userinfo")[0]
    assert userinfo.headers["authorization"] == "Bearer ya29.google-access"
    connection = DataSourceConnection.objects.get(organization=cast.acme, provider="google")
    assert connection.config["account"] == "alice@acme.test"
    assert connection.credentials["refresh_token"] == "1//google-refresh"
    assert "https://www.googleapis.com/auth/drive" in connection.scopes
    _no_token_in_social_rows("ya29.google-access", "1//google-refresh")


def test_a_forged_state_stores_nothing(cast, provider_api):
    _hubspot_routes(provider_api)
    client = _browser(cast.alice)
    _authorize(client, "hubspot")
    client.get("/oauth/complete/hubspot/", {"code": "the-code", "state": "not-the-state-we-sent-0123456789"})
    assert not provider_api.calls("POST", "/hubspot/oauth/v1/token")
    assert not DataSourceConnection.objects.exists()


def test_viewers_cannot_connect(cast, provider_api):
    client = _browser(cast.vera)
    response = client.get("/oauth/connect/hubspot/")
    assert response.status_code == 302
    assert "app.hubspot.com" not in response["Location"]
    assert not DataSourceConnection.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(provider_api):
    response = Client().get("/oauth/connect/google/")
    assert response.status_code == 302
    assert "accounts.google.com" not in response["Location"]


def test_unknown_provider_and_foreign_connection_are_404(cast, provider_api):
    client = _browser(cast.alice)
    assert client.get("/oauth/connect/myspace/").status_code == 404
    foreign = DataSourceConnection.objects.create(organization=cast.globex, provider="hubspot", name="theirs")
    assert client.get("/oauth/connect/hubspot/", {"connection": str(foreign.pk)}).status_code == 404
    assert client.get("/oauth/connect/hubspot/", {"connection": "not-a-uuid"}).status_code == 404
