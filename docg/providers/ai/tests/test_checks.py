"""`Test connection` for the AI app: GET {base_url}/models with the key, against the fake OpenAI API."""

import pytest

from docg.connectors.health import connection_test
from docg.connectors.models import DataSourceConnection
from docg.connectors.services import connection_create
from tests.fixtures.ai import API_KEY, MODELS_PATH, NOT_FOUND, SERVER_ERROR, UNAUTHORIZED

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def _connection(cast, fake, api_key=API_KEY, base_url=None) -> DataSourceConnection:
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="ai",
        name="OpenAI",
        credentials={"api_key": api_key},
        config={"base_url": fake.url if base_url is None else base_url, "model": "gpt-4o-mini"},
    )


def test_a_valid_key_is_ok(cast, fake_ai):
    result = connection_test(connection=_connection(cast, fake_ai))
    assert (result.ok, result.code, result.details["models"]) == (True, "ok", 1)
    [request] = fake_ai.received
    assert (request["method"], request["path"]) == ("GET", MODELS_PATH)
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert request["headers"]["x-correlation-id"]


def test_a_refused_key_is_unauthorized(cast, fake_ai):
    connection = _connection(cast, fake_ai, api_key="sk-wrong")
    result = connection_test(connection=connection)
    assert (result.ok, result.code, result.details["status"]) == (False, "ai.unauthorized", 401)
    assert "API key" in result.message and result.details["transient"] is False
    assert "API key" in DataSourceConnection.objects.get(pk=connection.pk).last_error


def test_a_server_without_a_model_list_is_ok_with_a_warning(cast, fake_ai):
    fake_ai.models_answer = (404, NOT_FOUND)
    connection = _connection(cast, fake_ai)
    result = connection_test(connection=connection)
    assert (result.ok, result.code, result.details["warning"]) == (True, "ai.models_not_listed", True)
    assert "could not be verified" in result.message
    assert DataSourceConnection.objects.get(pk=connection.pk).last_error == ""


def test_a_server_error_is_unavailable(cast, fake_ai):
    fake_ai.models_answer = (503, SERVER_ERROR)
    result = connection_test(connection=_connection(cast, fake_ai))
    assert (result.ok, result.code, result.details["transient"]) == (False, "ai.unavailable", True)


def test_a_private_base_url_is_blocked_before_any_call(cast, fake_ai, settings):
    settings.SSRF_ALLOWED_NETWORKS = []
    result = connection_test(connection=_connection(cast, fake_ai))
    assert (result.ok, result.code) == (False, "ai.blocked_address")
    assert fake_ai.received == []


def test_a_connection_without_a_key_says_what_is_missing(cast, fake_ai):
    cast.acme.language = "pt-br"
    cast.acme.save()
    result = connection_test(connection=_connection(cast, fake_ai, api_key=""))
    assert (result.ok, result.code) == (False, "ai.misconfigured")
    assert result.message == "A conexão de IA não está configurada: falta api_key."


def test_the_api_tests_an_ai_connection(cast, alice_api, fake_ai):
    body = alice_api.post(f"/api/v1/connections/{_connection(cast, fake_ai).pk}/test").json()
    assert (body["ok"], body["code"]) == (True, "ok")
    fake_ai.models_answer = (401, UNAUTHORIZED)
    body = alice_api.post(f"/api/v1/connections/{_connection(cast, fake_ai).pk}/test").json()
    assert (body["ok"], body["code"]) == (False, "ai.unauthorized")


def test_another_organizations_ai_connection_is_a_404(cast, charlie_api, fake_ai):
    response = charlie_api.post(f"/api/v1/connections/{_connection(cast, fake_ai).pk}/test")
    assert response.status_code == 404
    assert fake_ai.received == []
