import json

import pytest
from django.db import connection as db

from docg.audit.models import AuditEvent
from docg.connectors.models import DataSourceConnection
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db

SECRET = "sk-live-very-secret-123"


def _create(client, **overrides):
    body = {"provider": "smtp", "name": "Office mail", "credentials": {"password": SECRET}, "config": {"host": "mail"}}
    body.update(overrides)
    return client.post("/api/v1/connections", body, format="json")


def test_create_stores_credentials_encrypted_and_never_returns_them(alice_api, cast):
    response = _create(alice_api)
    assert response.status_code == 201, response.content
    assert SECRET not in response.content.decode()
    assert "credentials" not in response.json()
    assert response.json()["has_credentials"] is True
    connection = DataSourceConnection.objects.get(pk=response.json()["id"])
    assert connection.credentials == {"password": SECRET}
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connectors_datasourceconnection WHERE id = %s", [connection.pk])
        raw = cursor.fetchone()[0]
    assert SECRET not in raw
    listing = alice_api.get("/api/v1/connections")
    assert SECRET not in listing.content.decode()
    audit = AuditEvent.objects.get(action="connection.created", target_id=str(connection.pk))
    assert SECRET not in json.dumps(audit.event_metadata)


def test_unknown_provider_is_400(alice_api):
    response = _create(alice_api, provider="myspace")
    assert response.status_code == 400
    assert "provider" in response.json()["error"]["details"]


def test_delete_revokes_and_forgets_the_secret(alice_api, cast):
    connection_id = _create(alice_api).json()["id"]
    assert alice_api.delete(f"/api/v1/connections/{connection_id}").status_code == 204
    connection = DataSourceConnection.objects.get(pk=connection_id)
    assert connection.status == "revoked"
    assert connection.credentials == {}
    assert AuditEvent.objects.filter(action="connection.revoked", target_id=connection_id).count() == 1
    assert alice_api.get("/api/v1/connections?status=revoked").json()["results"][0]["id"] == connection_id


def test_new_credentials_reactivate(alice_api):
    connection_id = _create(alice_api).json()["id"]
    alice_api.delete(f"/api/v1/connections/{connection_id}")
    response = alice_api.patch(
        f"/api/v1/connections/{connection_id}", {"credentials": {"password": "new"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_members_and_viewers_cannot_touch_credentials(cast, alice_api):
    connection_id = _create(alice_api).json()["id"]
    for user in (cast.bob, cast.vera):
        client = api_client_for(user)
        assert client.get(f"/api/v1/connections/{connection_id}").status_code == 200
        assert _create(client).status_code == 403
        assert client.delete(f"/api/v1/connections/{connection_id}").status_code == 403
    assert DataSourceConnection.objects.get(pk=connection_id).status == "active"


def test_another_organization_gets_404(cast, alice_api, charlie_api):
    connection_id = _create(alice_api).json()["id"]
    assert charlie_api.get(f"/api/v1/connections/{connection_id}").status_code == 404
    assert charlie_api.delete(f"/api/v1/connections/{connection_id}").status_code == 404
    assert charlie_api.get("/api/v1/connections").json()["results"] == []
    assert DataSourceConnection.objects.get(pk=connection_id).status == "active"


def test_apps_lists_core_and_webhook_with_schemas(alice_api):
    apps = {a["slug"]: a for a in alice_api.get("/api/v1/apps").json()}
    assert {"core", "webhook"} <= set(apps)
    actions = {a["name"]: a for a in apps["core"]["actions"]}
    assert set(actions) >= {
        "branch",
        "filter",
        "delay",
        "set_variables",
        "approval",
        "datastore_get",
        "datastore_set",
        "http_request",
        "fail",
    }
    assert actions["delay"]["parameters"]["required"] == ["seconds"]
    assert [t["name"] for t in apps["webhook"]["triggers"]] == ["catch_hook"]
    assert alice_api.get("/api/v1/apps/core").json()["slug"] == "core"
    assert alice_api.get("/api/v1/apps/nope").status_code == 404


def test_clients_cannot_set_the_portal_id_that_routes_provider_webhooks(charlie_api, cast):
    # Portal ids are public; if a client could write one, another organization's HubSpot events would reach it.
    body = {"provider": "hubspot", "name": "x", "config": {"portal_id": "62515", "folder": "Deals"}}
    created = charlie_api.post("/api/v1/connections", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["config"] == {"folder": "Deals"}
    connection = DataSourceConnection.objects.get(pk=created.json()["id"])
    connection.config = {"portal_id": "777", "folder": "Deals"}  # as the OAuth flow recorded it
    connection.save()
    response = charlie_api.patch(
        f"/api/v1/connections/{connection.pk}", {"config": {"portal_id": "62515", "folder": "X"}}, format="json"
    )
    assert response.status_code == 200, response.content
    connection.refresh_from_db()
    assert connection.config == {"folder": "X", "portal_id": "777"}
