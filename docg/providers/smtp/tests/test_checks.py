"""`Test connection` for SMTP logs in to a real SMTP server on loopback and sends nothing."""

import pytest

from docg.connectors.health import connection_test
from docg.connectors.models import DataSourceConnection
from docg.connectors.services import connection_create
from tests.fixtures.processes import free_port
from tests.fixtures.smtp import SmtpRecorder, smtp_credentials

pytestmark = [
    pytest.mark.django_db,
    # The AUTH-over-plain-text server is the point of the fixture (loopback only).
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

USER, PASSWORD = "mailer@acme.example", "right-password"


@pytest.fixture
def auth_smtp_server(settings):
    """An aiosmtpd server that requires AUTH (PLAIN/LOGIN) and knows one user; records the logins it saw."""
    from aiosmtpd.controller import Controller

    settings.SSRF_ALLOWED_HOSTS = [*settings.SSRF_ALLOWED_HOSTS, "127.0.0.1"]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    attempts: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        attempts.append((mechanism, login))
        # handled=False: aiosmtpd answers the refusal itself (535 5.7.8).
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)

    recorder = SmtpRecorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # loopback, no certificate: the test checks AUTH, not TLS
    )
    controller.start()
    controller.recorder = recorder
    controller.attempts = attempts
    yield controller
    controller.stop()


def _mailer(cast, server, **extra) -> DataSourceConnection:
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="smtp",
        name="Mail",
        credentials=smtp_credentials(server, **extra),
    )


def test_it_logs_in_and_sends_nothing(cast, auth_smtp_server):
    connection = _mailer(cast, auth_smtp_server, username=USER, password=PASSWORD)
    result = connection_test(connection=connection)
    assert (result.ok, result.code) == (True, "ok")
    assert f"127.0.0.1:{auth_smtp_server.port}" in result.message
    assert result.details["authenticated"] is True
    assert [login for _, login in auth_smtp_server.attempts] == [USER]
    assert auth_smtp_server.recorder.received == [] and auth_smtp_server.recorder.data_attempts == 0
    assert DataSourceConnection.objects.get(pk=connection.pk).last_checked_at is not None


def test_a_server_without_auth_is_ok_without_a_user_name(cast, smtp_server):
    result = connection_test(connection=_mailer(cast, smtp_server))
    assert (result.ok, result.details["authenticated"]) == (True, False)
    assert smtp_server.recorder.received == []


def test_a_wrong_password_is_a_permanent_auth_failure(cast, auth_smtp_server):
    connection = _mailer(cast, auth_smtp_server, username=USER, password="wrong")
    result = connection_test(connection=connection)
    assert (result.ok, result.code) == (False, "smtp.auth_failed")
    assert result.details["smtp_code"] == 535 and result.details["transient"] is False
    assert "user name or password" in result.message
    stored = DataSourceConnection.objects.get(pk=connection.pk)
    assert "user name or password" in stored.last_error
    assert stored.status == "active"  # a bad password is fixed by editing the connection, not by reconnecting


def test_the_auth_failure_reads_in_portuguese(cast, auth_smtp_server):
    cast.acme.language = "pt-br"
    cast.acme.save()
    result = connection_test(connection=_mailer(cast, auth_smtp_server, username=USER, password="wrong"))
    assert result.message.startswith("O servidor de e-mail recusou o usuário ou a senha (535")


def test_a_loopback_host_is_refused_unless_an_operator_allows_it(cast, auth_smtp_server, settings):
    settings.SSRF_ALLOWED_HOSTS = []
    result = connection_test(connection=_mailer(cast, auth_smtp_server, username=USER, password=PASSWORD))
    assert (result.ok, result.code) == (False, "smtp.misconfigured")
    assert "loopback" in result.message
    assert auth_smtp_server.attempts == []  # nothing reached the server


def test_a_closed_port_is_unreachable(cast, settings):
    settings.SSRF_ALLOWED_HOSTS = ["127.0.0.1"]
    closed = free_port()  # nothing listens there
    credentials = {"host": "127.0.0.1", "port": closed, "security": "none", "username": USER, "password": PASSWORD}
    connection = connection_create(
        organization=cast.acme, by=cast.alice, provider="smtp", name="Mail", credentials=credentials
    )
    result = connection_test(connection=connection)
    assert (result.ok, result.code) == (False, "smtp.unreachable")
    assert result.details["transient"] is True and result.details["exception"] == "ConnectionRefusedError"
    assert f"127.0.0.1:{closed}" in result.message


def test_starttls_on_a_server_that_does_not_offer_it_says_so(cast, smtp_server):
    result = connection_test(connection=_mailer(cast, smtp_server, security="starttls"))
    assert (result.ok, result.code) == (False, "smtp.misconfigured")
    assert "STARTTLS" in result.message


def test_the_api_tests_an_smtp_connection(cast, alice_api, auth_smtp_server):
    good = _mailer(cast, auth_smtp_server, username=USER, password=PASSWORD)
    body = alice_api.post(f"/api/v1/connections/{good.pk}/test").json()
    assert (body["ok"], body["code"]) == (True, "ok")
    bad = _mailer(cast, auth_smtp_server, username=USER, password="wrong")
    response = alice_api.post(f"/api/v1/connections/{bad.pk}/test")
    assert response.status_code == 200
    assert (response.json()["ok"], response.json()["code"]) == (False, "smtp.auth_failed")
    assert auth_smtp_server.recorder.received == []


def test_another_organizations_smtp_connection_is_a_404(cast, charlie_api, auth_smtp_server):
    connection = _mailer(cast, auth_smtp_server, username=USER, password=PASSWORD)
    response = charlie_api.post(f"/api/v1/connections/{connection.pk}/test")
    assert response.status_code == 404
    assert auth_smtp_server.attempts == []
