"""POST /api/v1/connections/{id}/test asks the provider whether the credential still works."""

import time

import pytest

from docg.connectors.models import DataSourceConnection
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db


def _hubspot(cast, organization=None) -> DataSourceConnection:
    return DataSourceConnection.objects.create(
        organization=organization or cast.acme,
        provider="hubspot",
        name="HubSpot acme",
        config={"portal_id": "62515"},
        credentials={"access_token": "hub-ok", "refresh_token": "hub-r", "expires_at": time.time() + 1800},
    )


def test_a_working_credential_is_ok(cast, alice_api, provider_api):
    provider_api.on("GET", "/hubspot/account-info/v3/details", body={"portalId": 62515, "timeZone": "US/Eastern"})
    connection = _hubspot(cast)
    response = alice_api.post(f"/api/v1/connections/{connection.pk}/test")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["code"] == "ok"
    assert body["checked_at"]
    call = provider_api.calls("GET", "/hubspot/account-info/v3/details")[0]
    assert call.headers["authorization"] == "Bearer hub-ok"
    assert call.headers["x-correlation-id"]
    stored = DataSourceConnection.objects.get(pk=connection.pk)
    assert stored.last_checked_at is not None and stored.last_error == ""


def test_a_refused_credential_marks_the_connection_expired(cast, alice_api, provider_api):
    provider_api.on(
        "GET",
        "/hubspot/account-info/v3/details",
        status=401,
        body={
            "status": "error",
            "message": "Authentication credentials not found.",
            "category": "INVALID_AUTHENTICATION",
        },
    )
    connection = _hubspot(cast)
    body = alice_api.post(f"/api/v1/connections/{connection.pk}/test").json()
    assert body["ok"] is False
    assert body["code"] == "oauth_expired"
    assert body["status"] == "expired"
    stored = DataSourceConnection.objects.get(pk=connection.pk)
    assert stored.status == "expired"
    assert "reconnect" in stored.last_error


def test_a_missing_scope_says_so(cast, alice_api, provider_api):
    provider_api.on("GET", "/googleapis/oauth2/v3/userinfo", status=403, body={"error": "insufficient_scope"})
    connection = DataSourceConnection.objects.create(
        organization=cast.acme, provider="google", name="g", credentials={"access_token": "g", "expires_at": 0}
    )
    body = alice_api.post(f"/api/v1/connections/{connection.pk}/test").json()
    assert body["ok"] is False and body["code"] == "google.insufficient_permissions"
    assert DataSourceConnection.objects.get(pk=connection.pk).status == "active"


def test_microsoft_is_checked_with_graph_me(cast, alice_api, provider_api):
    provider_api.on("GET", "/graph/v1.0/me", body={"id": "u1", "userPrincipalName": "alice@acme.test"})
    connection = DataSourceConnection.objects.create(
        organization=cast.acme, provider="microsoft", name="m", credentials={"access_token": "m", "expires_at": 0}
    )
    assert alice_api.post(f"/api/v1/connections/{connection.pk}/test").json()["ok"] is True
    assert provider_api.calls("GET", "/graph/v1.0/me")[0].headers["authorization"] == "Bearer m"


def test_an_untestable_provider_says_so(cast, alice_api):
    connection = DataSourceConnection.objects.create(organization=cast.acme, provider="webhook", name="w")
    body = alice_api.post(f"/api/v1/connections/{connection.pk}/test").json()
    assert body == {**body, "ok": False, "code": "test.unsupported"}


def test_members_may_test_but_viewers_may_not(cast, provider_api):
    provider_api.on("GET", "/hubspot/account-info/v3/details", body={"portalId": 62515})
    connection = _hubspot(cast)
    assert api_client_for(cast.bob).post(f"/api/v1/connections/{connection.pk}/test").status_code == 200
    response = api_client_for(cast.vera).post(f"/api/v1/connections/{connection.pk}/test")
    assert response.status_code == 403
    assert response.json()["error"]["code"]


def test_another_organization_gets_404(cast, charlie_api, provider_api):
    connection = _hubspot(cast)
    response = charlie_api.post(f"/api/v1/connections/{connection.pk}/test")
    assert response.status_code == 404
    assert provider_api.requests == []
    assert DataSourceConnection.objects.get(pk=connection.pk).last_checked_at is None
