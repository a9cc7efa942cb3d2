"""A database that refuses connections answers 503 with Retry-After in the error shape, never a 500."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_down():
    """Every new connection goes to a port nothing listens on (as when PostgreSQL refuses clients)."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"]["retry_after"] == int(response["Retry-After"])


def test_api_routes_answer_503_when_the_database_refuses(cast):
    client = api_client_for(cast.alice)
    client.raise_request_exception = False
    with database_down():
        _assert_unavailable(client.get("/api/v1/workflows"))
        _assert_unavailable(client.post("/api/v1/workflows", {"name": "x", "nodes": []}, format="json"))


def test_token_and_webhooks_answer_503_when_the_database_refuses(cast):
    client = Client(raise_request_exception=False)
    with database_down():
        _assert_unavailable(
            client.post(
                "/api/v1/auth/token", {"email": "a@example.com", "password": "x"}, content_type="application/json"
            )
        )
        # A provider that gets a 503 retries later: the delivery is not lost.
        _assert_unavailable(
            client.post("/hooks/00000000-0000-0000-0000-000000000001/s", b"{}", content_type="application/json")
        )


def test_dashboard_answers_503_when_the_database_refuses(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.alice)
    with database_down():
        response = client.get("/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
