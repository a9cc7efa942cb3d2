"""Connections area: list, add an API-key connection, test, revoke; secrets never come back."""

import pytest

from docg.common.errors import DocgError
from docg.connectors import health
from docg.connectors.health import ConnectionTestResult
from docg.connectors.models import DataSourceConnection
from docg.connectors.services import connection_create

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = "zs-token-very-secret-123"


def connection(organization, user, provider="zapsign", name="ZapSign main", credentials=None):
    return connection_create(
        organization=organization,
        by=user,
        provider=provider,
        name=name,
        credentials=credentials or {"api_token": TOKEN},
    )


def main_of(response) -> str:
    return response.content.decode().split('<main id="main"', 1)[1]


def test_list_shows_connections_without_their_secrets(client, cast):
    ours = connection(cast.acme, cast.alice)
    connection(cast.globex, cast.charlie, name="Globex keys")
    client.force_login(cast.alice)
    page = client.get("/connections/").content.decode()
    assert "ZapSign main" in page
    assert "Globex keys" not in page
    assert TOKEN not in page
    assert f"/connections/{ours.pk}/test/" in page
    assert f"/connections/{ours.pk}/revoke/" in page
    for provider in ("clicksign", "zapsign", "smtp", "ai"):
        assert f"/connections/new/{provider}/" in page


def test_owner_adds_a_zapsign_connection_and_the_token_is_stored_not_shown(client, cast):
    client.force_login(cast.alice)
    response = client.post(
        "/connections/new/zapsign/", {"zapsign-name": "Signatures", "zapsign-api_token": TOKEN}, follow=True
    )
    assert response.status_code == 200
    assert "Signatures" in response.content.decode()
    assert TOKEN not in response.content.decode()
    created = DataSourceConnection.objects.get()
    assert (created.provider, created.organization, created.credentials) == ("zapsign", cast.acme, {"api_token": TOKEN})


def test_smtp_and_ai_forms_store_what_their_connectors_read(client, cast):
    client.force_login(cast.alice)
    smtp = {
        "smtp-name": "Mail", "smtp-host": "smtp.example.com", "smtp-port": "2525", "smtp-security": "ssl",
        "smtp-username": "robot", "smtp-password": "pw-secret", "smtp-from_email": "robot@example.com",
    }  # fmt: skip
    assert client.post("/connections/new/smtp/", smtp).status_code == 302
    ai = {"ai-name": "AI", "ai-base_url": "https://llm.example.com/v1", "ai-model": "small", "ai-api_key": "sk-secret"}
    assert client.post("/connections/new/ai/", ai).status_code == 302
    mail = DataSourceConnection.objects.get(provider="smtp")
    assert mail.credentials == {
        "host": "smtp.example.com", "port": 2525, "security": "ssl", "username": "robot", "password": "pw-secret",
        "from_email": "robot@example.com",
    }  # fmt: skip
    model = DataSourceConnection.objects.get(provider="ai")
    assert model.credentials == {"api_key": "sk-secret"}
    assert model.config == {"base_url": "https://llm.example.com/v1", "model": "small"}
    page = client.get("/connections/").content.decode()
    assert "pw-secret" not in page and "sk-secret" not in page


def test_invalid_forms_are_explained_and_do_not_echo_the_secret(client, cast):
    client.force_login(cast.alice)
    response = client.post("/connections/new/ai/", {"ai-name": "AI", "ai-base_url": "not a url", "ai-api_key": "sk-x1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid URL." in page
    assert "sk-x1" not in page
    assert client.post("/connections/new/zapsign/", {"zapsign-name": ""}).status_code == 400
    assert (
        client.post("/connections/new/smtp/", {"smtp-name": "M", "smtp-host": "h", "smtp-port": "99999"}).status_code
        == 400
    )
    assert client.post("/connections/new/hubspot/", {"hubspot-name": "x"}).status_code == 404
    assert client.post("/connections/new/../", {}).status_code == 404
    assert not DataSourceConnection.objects.exists()


def test_test_button_shows_the_providers_answer(client, cast, monkeypatch):
    ours = connection(cast.acme, cast.alice)
    monkeypatch.setitem(health._CHECKERS, "zapsign", lambda c: ConnectionTestResult(True))
    client.force_login(cast.bob)  # members may test
    ok = client.post(f"/connections/{ours.pk}/test/", **HTMX)
    assert ok.status_code == 200
    assert 'data-test-result="ok"' in ok.content.decode()
    monkeypatch.setitem(
        health._CHECKERS,
        "zapsign",
        lambda c: ConnectionTestResult(False, "zapsign.unauthorized", "ZapSign refused the token."),
    )
    refused = client.post(f"/connections/{ours.pk}/test/", follow=True).content.decode()
    assert "ZapSign refused the token." in refused


def test_a_crashing_or_failing_check_is_a_message_not_a_500(client, cast, monkeypatch):
    ours = connection(cast.acme, cast.alice)

    def raises_connector_error(c):
        raise DocgError("zapsign.unavailable", "ZapSign is unavailable right now.", transient=True)

    def crashes(c):
        raise RuntimeError("boom")

    client.force_login(cast.alice)
    monkeypatch.setitem(health._CHECKERS, "zapsign", raises_connector_error)
    assert "ZapSign is unavailable right now." in client.post(f"/connections/{ours.pk}/test/", **HTMX).content.decode()
    monkeypatch.setitem(health._CHECKERS, "zapsign", crashes)
    crashed = client.post(f"/connections/{ours.pk}/test/", **HTMX)
    assert crashed.status_code == 200
    assert "could not run the test" in crashed.content.decode()
    unsupported = connection(cast.acme, cast.alice, provider="legacy-crm", name="Old CRM")
    assert "cannot test legacy-crm" in client.post(f"/connections/{unsupported.pk}/test/", **HTMX).content.decode()


def test_revoke_forgets_the_credential(client, cast):
    ours = connection(cast.acme, cast.alice)
    client.force_login(cast.alice)
    page = client.post(f"/connections/{ours.pk}/revoke/", follow=True).content.decode()
    assert "revoked" in page
    ours.refresh_from_db()
    assert (ours.status, ours.credentials) == ("revoked", {})
    assert f"/connections/{ours.pk}/revoke/" not in page
    assert f"/connections/{ours.pk}/test/" not in page


def test_member_may_test_but_not_add_or_revoke(client, cast):
    ours = connection(cast.acme, cast.alice)
    client.force_login(cast.bob)
    page = client.get("/connections/").content.decode()
    assert f"/connections/{ours.pk}/test/" in page
    assert "/revoke/" not in page and "/connections/new/" not in page
    assert "Only owners and admins" in page
    assert client.post(f"/connections/{ours.pk}/revoke/").status_code == 404
    assert client.post("/connections/new/zapsign/", {"zapsign-name": "x", "zapsign-api_token": "t"}).status_code == 404
    assert DataSourceConnection.objects.get().status == "active"


def test_viewer_sees_no_write_buttons_and_any_post_is_refused(client, cast):
    ours = connection(cast.acme, cast.alice)
    client.force_login(cast.vera)
    response = client.get("/connections/")
    assert "ZapSign main" in response.content.decode()
    assert 'method="post"' not in main_of(response)
    for url in (f"/connections/{ours.pk}/test/", f"/connections/{ours.pk}/revoke/", "/connections/new/zapsign/"):
        assert client.post(url, {"zapsign-name": "x", "zapsign-api_token": "t"}).status_code == 404, url
    assert DataSourceConnection.objects.count() == 1


def test_another_organizations_connection_is_a_404(client, cast):
    theirs = connection(cast.globex, cast.charlie, name="Globex keys")
    client.force_login(cast.alice)
    assert client.post(f"/connections/{theirs.pk}/test/").status_code == 404
    assert client.post(f"/connections/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_oauth_buttons_link_to_the_provider_only_once_an_operator_configured_it(client, cast, settings):
    client.force_login(cast.alice)
    settings.SOCIAL_AUTH_GOOGLE_KEY = settings.SOCIAL_AUTH_GOOGLE_SECRET = ""
    page = client.get("/connections/").content.decode()
    # Unconfigured, the provider would show its own error page: a disabled button that says what to set instead.
    assert 'href="/oauth/connect/google/"' not in page
    assert 'data-oauth-unconfigured="google"' in page and "GOOGLE_CLIENT_ID" in page
    response = client.get("/oauth/connect/google/", follow=True)
    assert response.redirect_chain[-1][0] == "/connections/"
    assert "GOOGLE_CLIENT_SECRET" in response.content.decode()

    settings.SOCIAL_AUTH_GOOGLE_KEY, settings.SOCIAL_AUTH_GOOGLE_SECRET = "client-id", "client-secret"
    page = client.get("/connections/").content.decode()
    assert 'href="/oauth/connect/google/"' in page and "Connect Google" in page
    assert client.get("/oauth/connect/google/")["Location"].startswith("https://accounts.google.com/")


WEBHOOK_SECRET = "whsec-zap-7f3a9c"


def test_owner_sees_the_webhook_urls_to_paste_into_clicksign_and_zapsign(client, cast, settings):
    settings.FRONTEND_URL = "https://docs.acme.example/"
    clicksign = connection(
        cast.acme,
        cast.alice,
        provider="clicksign",
        name="ClickSign main",
        credentials={"access_token": "cs-token", "webhook_secret": "cs-hmac-secret"},
    )
    zapsign = connection(cast.acme, cast.alice, credentials={"api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET})
    client.force_login(cast.alice)
    page = main_of(client.get("/connections/"))
    assert f'value="https://docs.acme.example/hooks/clicksign/{clicksign.pk}"' in page
    assert f'value="https://docs.acme.example/hooks/zapsign/{zapsign.pk}/{WEBHOOK_SECRET}"' in page
    assert page.count(WEBHOOK_SECRET) == 1  # only inside the ZapSign URL
    assert "cs-hmac-secret" not in page and TOKEN not in page
    assert f'data-copy="webhook-url-{zapsign.pk}"' in page and "X-Docg-Webhook-Secret" in page
    # The URLs really are the provider's callback routes.
    assert client.post(f"/hooks/clicksign/{clicksign.pk}", b"{}", content_type="application/json").status_code == 401
    assert client.post(f"/hooks/zapsign/{zapsign.pk}/wrong", b"{}", content_type="application/json").status_code == 404


def test_members_never_see_the_zapsign_url_that_holds_the_secret(client, cast):
    clicksign = connection(
        cast.acme, cast.alice, provider="clicksign", name="ClickSign main", credentials={"access_token": "t"}
    )
    connection(cast.acme, cast.alice, credentials={"api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET})
    for user in (cast.bob, cast.vera):
        client.force_login(user)
        page = main_of(client.get("/connections/"))
        assert WEBHOOK_SECRET not in page and "/hooks/zapsign/" not in page
        assert f"/hooks/clicksign/{clicksign.pk}" in page


def test_a_missing_webhook_secret_is_explained_instead_of_a_url_that_cannot_work(client, cast):
    connection(cast.acme, cast.alice)  # ZapSign without a webhook secret
    connection(cast.acme, cast.alice, provider="clicksign", name="CS", credentials={"access_token": "t"})
    client.force_login(cast.alice)
    page = main_of(client.get("/connections/"))
    assert "/hooks/zapsign/" not in page
    assert "ZapSign cannot report signatures" in page
    assert "no webhook HMAC secret" in page


def test_webhook_help_reads_in_portuguese(client, cast):
    cast.acme.language = "pt-br"
    cast.acme.save()
    connection(cast.acme, cast.alice, credentials={"api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET})
    client.force_login(cast.alice)
    page = main_of(client.get("/connections/"))
    assert "URL do webhook" in page and ">Copiar<" in page
    assert "No ZapSign, adicione um webhook com esta URL" in page


def test_a_revoked_connection_shows_no_webhook_url(client, cast):
    zapsign = connection(cast.acme, cast.alice, credentials={"api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET})
    client.force_login(cast.alice)
    client.post(f"/connections/{zapsign.pk}/revoke/")
    assert "/hooks/zapsign/" not in main_of(client.get("/connections/"))
