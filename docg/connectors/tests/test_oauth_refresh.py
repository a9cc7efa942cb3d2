"""Access tokens refresh themselves; a dead refresh token expires the connection and shows up in preflight."""

import threading
import time

import pytest
from django.db import connection as db

from docg.common.errors import DocgError
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token
from docg.executions.preflight import preflight_check
from tests.fixtures.engine import wait_until


def _google(cast, *, expires_in: float, refresh: str = "1//refresh-old") -> DataSourceConnection:
    return DataSourceConnection.objects.create(
        organization=cast.acme,
        provider="google",
        name="Google alice",
        credentials={
            "access_token": "old-access",
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_at": time.time() + expires_in,
        },
    )


@pytest.mark.django_db
def test_a_valid_token_is_used_as_is(cast, provider_api):
    connection = _google(cast, expires_in=3600)
    assert fresh_access_token(connection=connection) == "old-access"
    assert provider_api.requests == []


@pytest.mark.django_db
def test_a_token_expiring_within_a_minute_is_refreshed_and_saved_encrypted(cast, provider_api):
    provider_api.on(
        "POST", "/google-oauth/token", body={"access_token": "new-access", "expires_in": 3599, "token_type": "Bearer"}
    )
    connection = _google(cast, expires_in=30)
    assert fresh_access_token(connection=connection, correlation_id="corr-1") == "new-access"

    call = provider_api.calls("POST", "/google-oauth/token")[0]
    assert call.form == {
        "grant_type": "refresh_token",
        "client_id": "google-client",
        "client_secret": "google-secret",
        "refresh_token": "1//refresh-old",
    }
    assert call.headers["x-correlation-id"] == "corr-1"
    stored = DataSourceConnection.objects.get(pk=connection.pk)
    assert stored.credentials["access_token"] == "new-access"
    # Google sends no new refresh token on refresh: the old one is kept.
    assert stored.credentials["refresh_token"] == "1//refresh-old"
    assert stored.credentials["expires_at"] > time.time() + 3000
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connectors_datasourceconnection WHERE id = %s", [connection.pk])
        assert "new-access" not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_microsoft_refresh_rotates_the_refresh_token(cast, provider_api, settings):
    provider_api.on(
        "POST",
        "/mslogin/common/oauth2/v2.0/token",
        body={"access_token": "ms-new", "refresh_token": "ms-refresh-2", "expires_in": 3600, "token_type": "Bearer"},
    )
    connection = DataSourceConnection.objects.create(
        organization=cast.acme,
        provider="microsoft",
        name="Outlook",
        credentials={"access_token": "ms-old", "refresh_token": "ms-refresh-1", "expires_at": time.time() - 5},
    )
    assert fresh_access_token(connection=connection) == "ms-new"
    assert provider_api.calls("POST", "/mslogin/common/oauth2/v2.0/token")[0].form["client_id"] == "ms-client"
    assert DataSourceConnection.objects.get(pk=connection.pk).credentials["refresh_token"] == "ms-refresh-2"


@pytest.mark.django_db
def test_invalid_grant_expires_the_connection_and_preflight_says_reconnect(cast, provider_api):
    provider_api.on(
        "POST",
        "/google-oauth/token",
        status=400,
        body={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    connection = _google(cast, expires_in=-10)
    with pytest.raises(DocgError) as caught:
        fresh_access_token(connection=connection)
    assert caught.value.code == "oauth_expired"
    assert caught.value.transient is False
    stored = DataSourceConnection.objects.get(pk=connection.pk)
    assert stored.status == "expired"
    assert "expired" in stored.last_error

    nodes = [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        {
            "key": "doc",
            "kind": "action",
            "app": "core",
            "operation": "set_variables",
            "label": "Make the contract",
            "connection": str(connection.pk),
            "parameters": {"variables": {}},
        },
    ]
    report = preflight_check(organization=cast.acme, nodes=nodes, trigger_data={}, execution_id="e1")
    assert [i["code"] for i in report["blocking"]] == ["oauth_expired"]
    assert report["blocking"][0]["domain"] == "permissions"
    assert report["recommended_actions"][0]["action"] == "reconnect_provider"
    # Nothing more is asked of the provider once the connection is known to be expired.
    with pytest.raises(DocgError):
        fresh_access_token(connection=stored)
    assert len(provider_api.calls("POST", "/google-oauth/token")) == 1


@pytest.mark.django_db
def test_a_provider_outage_is_transient_and_keeps_the_connection(cast, provider_api):
    provider_api.on("POST", "/google-oauth/token", status=503, body={"error": "backend_error"})
    connection = _google(cast, expires_in=-10)
    with pytest.raises(DocgError) as caught:
        fresh_access_token(connection=connection)
    assert caught.value.transient is True
    assert DataSourceConnection.objects.get(pk=connection.pk).status == "active"


@pytest.mark.django_db(transaction=True)
def test_two_workers_needing_a_refresh_refresh_once(cast, provider_api):
    release = threading.Event()

    def token_endpoint(request):
        release.wait(10)
        return 200, {"access_token": "new-access", "expires_in": 3599, "token_type": "Bearer"}, {}

    provider_api.handle("POST", "/google-oauth/token", token_endpoint)
    connection = _google(cast, expires_in=10)
    results: list[str] = []

    def worker():
        try:
            copy = DataSourceConnection.objects.get(pk=connection.pk)
            results.append(fresh_access_token(connection=copy))
        finally:
            db.close()

    first = threading.Thread(target=worker)
    first.start()
    wait_until(lambda: provider_api.calls("POST", "/google-oauth/token"), what="the first refresh")
    second = threading.Thread(target=worker)
    second.start()

    def second_waits_for_the_row_lock():
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] >= 1

    wait_until(second_waits_for_the_row_lock, what="the second worker to wait on the lock")
    release.set()
    first.join(10)
    second.join(10)
    assert results == ["new-access", "new-access"]
    assert len(provider_api.calls("POST", "/google-oauth/token")) == 1
