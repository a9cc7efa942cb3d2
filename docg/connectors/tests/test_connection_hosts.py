"""A server name IDNA cannot encode is bad input (400), never a crash, wherever a user can type one."""

import pytest

from docg.common.ssrf import BlockedAddress, InvalidHost, check_host, check_url
from docg.connectors.models import DataSourceConnection

pytestmark = pytest.mark.django_db

BAD_HOSTS = {
    "label over 63": "a" * 64 + ".example.com",
    "empty label": "mail..example.com",
    "fullwidth at": "user\uff20mail.example.com",
}


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_the_guard_refuses_hosts_idna_cannot_encode(host):
    with pytest.raises(InvalidHost):
        check_host(host, 25)
    with pytest.raises(InvalidHost):
        check_url(f"https://{host}/v1")
    assert issubclass(InvalidHost, BlockedAddress)  # every caller that refuses blocked hosts refuses these too


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
@pytest.mark.parametrize(
    ("provider", "field", "value"),
    [
        ("smtp", "credentials.host", "{host}"),
        ("ai", "config.base_url", "https://{host}/v1"),
        ("zapsign", "config.base_url", "https://{host}/api/v1"),
    ],
)
def test_testing_a_connection_with_an_impossible_host_is_400(cast, alice_api, provider, field, value, host):
    where, key = field.split(".")
    settings = {"config": {}, "credentials": {"api_key": "k", "api_token": "t", "password": "p"}}
    settings[where][key] = value.format(host=host)
    # Stored directly, as an older row or the admin could have it.
    connection = DataSourceConnection.objects.create(
        organization=cast.acme,
        provider=provider,
        name="typo",
        config=settings["config"],
        credentials=settings["credentials"],
    )
    response = alice_api.post(f"/api/v1/connections/{connection.pk}/test")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "connection.invalid_host"
    assert list(error["details"]) == [field]
    assert DataSourceConnection.objects.get(pk=connection.pk).last_checked_at is None


@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_saving_a_connection_with_an_impossible_host_is_400_naming_the_field(alice_api, host):
    body = {
        "provider": "ai",
        "name": "Gateway",
        "credentials": {"api_key": "k"},
        "config": {"base_url": f"https://{host}/v1"},
    }
    response = alice_api.post("/api/v1/connections", body, format="json")
    assert response.status_code == 400, response.content
    assert "config.base_url" in response.json()["error"]["details"]
    assert not DataSourceConnection.objects.filter(name="Gateway").exists()
