"""Optional smoke tests against the real providers: one read-only (or sandbox) call each.

Each test runs only when its credentials are in the environment (see README.md,
"Live smoke tests (optional)"); without them it is skipped before any fixture
runs, so CI and offline machines never touch the network. They go through the
same client or connection checker (`connection_test`) the product uses, so a
provider changing a path, a header or an answer's shape shows up here first.
"""

import os
import uuid

import pytest

from docg.connectors.health import connection_test
from docg.connectors.services import connection_create

# The real API roots (an operator's DOCG_API_ROOT_* may point the test settings elsewhere).
REAL_ROOTS = {
    "hubspot": "https://api.hubapi.com",
    "google_drive": "https://www.googleapis.com",
    "clicksign": "https://sandbox.clicksign.com",
    "stripe": "https://api.stripe.com",
}
ZAPSIGN_SANDBOX = "https://sandbox.api.zapsign.com.br/api/v1"


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def needs(*names: str):
    missing = [name for name in names if not env(name)]
    return pytest.mark.skipif(bool(missing), reason=f"live smoke test: set {', '.join(missing)} to run it")


def _connection(cast, provider: str, credentials: dict, config: dict | None = None):
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider=provider,
        name=f"live {provider}",
        credentials=credentials,
        config=config or {},
    )


def _assert_ok(result) -> None:
    assert result.ok, (result.code, result.message, result.details)


@needs("DOCG_LIVE_HUBSPOT_TOKEN")
@pytest.mark.django_db
def test_hubspot_accepts_the_token_and_names_its_portal(cast, settings):
    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "hubspot": REAL_ROOTS["hubspot"]}
    connection = _connection(cast, "hubspot", {"access_token": env("DOCG_LIVE_HUBSPOT_TOKEN")})
    result = connection_test(connection=connection)  # GET /account-info/v3/details
    _assert_ok(result)
    assert result.details["portal_id"].isdigit()


@needs("DOCG_LIVE_HUBSPOT_TOKEN", "DOCG_LIVE_HUBSPOT_DEAL_ID")
@pytest.mark.django_db
def test_hubspot_deal_is_read_with_its_associations(cast, settings):
    from docg.providers.hubspot.deals import fetch_deal_bundle

    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "hubspot": REAL_ROOTS["hubspot"]}
    connection = _connection(cast, "hubspot", {"access_token": env("DOCG_LIVE_HUBSPOT_TOKEN")})
    deal_id = env("DOCG_LIVE_HUBSPOT_DEAL_ID")
    # Read only: GET the deal (CRM v3), its associations (v4) and one batch read per associated type.
    bundle = fetch_deal_bundle(connection=connection, deal_id=deal_id, parameters={}, correlation_id=str(uuid.uuid4()))
    assert bundle["deal"]["id"] == deal_id and "dealname" in bundle["deal"]["properties"]
    assert all(contact["id"] for contact in bundle["contacts"])


@needs("DOCG_LIVE_GOOGLE_TOKEN")
@pytest.mark.django_db
def test_google_accepts_the_token_and_drive_understands_the_step_query(cast, settings):
    from docg.providers.google.client import GoogleClient

    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "google_drive": REAL_ROOTS["google_drive"]}
    token = env("DOCG_LIVE_GOOGLE_TOKEN")
    result = connection_test(connection=_connection(cast, "google", {"access_token": token}))  # GET userinfo
    _assert_ok(result)
    # Read only: the Drive files.list query a retried step uses to find its copy; nobody made this one.
    client = GoogleClient(access_token=token, correlation_id=str(uuid.uuid4()))
    assert client.drive_find_step_file(step=f"live-smoke:{uuid.uuid4()}") is None


@needs("DOCG_LIVE_CLICKSIGN_TOKEN")
@pytest.mark.django_db
def test_clicksign_sandbox_accepts_the_token(cast, settings):
    root = env("DOCG_LIVE_CLICKSIGN_API_ROOT", REAL_ROOTS["clicksign"]).rstrip("/")
    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "clicksign": root}
    connection = _connection(cast, "clicksign", {"access_token": env("DOCG_LIVE_CLICKSIGN_TOKEN")})
    _assert_ok(connection_test(connection=connection))  # GET /api/v3/envelopes


@needs("DOCG_LIVE_ZAPSIGN_TOKEN")
@pytest.mark.django_db
def test_zapsign_sandbox_accepts_the_token(cast):
    base_url = env("DOCG_LIVE_ZAPSIGN_BASE_URL", ZAPSIGN_SANDBOX).rstrip("/")
    connection = _connection(
        cast, "zapsign", {"api_token": env("DOCG_LIVE_ZAPSIGN_TOKEN")}, config={"base_url": base_url}
    )
    _assert_ok(connection_test(connection=connection))  # GET /docs/


_STRIPE_KEY = env("DOCG_LIVE_STRIPE_KEY")


@needs("DOCG_LIVE_STRIPE_KEY")
@pytest.mark.skipif(
    bool(_STRIPE_KEY) and not _STRIPE_KEY.startswith(("sk_test_", "rk_test_")),
    reason="DOCG_LIVE_STRIPE_KEY must be a test-mode key (sk_test_… or rk_test_…)",
)
def test_stripe_test_mode_key_reads_the_balance(settings):
    from docg.providers.stripe.client import StripeApi

    settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "stripe": REAL_ROOTS["stripe"]}
    api = StripeApi(_STRIPE_KEY, headers={"X-Correlation-ID": str(uuid.uuid4())})
    balance = api.client.v1.balance.retrieve().to_dict()  # GET /v1/balance: read only
    assert balance["object"] == "balance" and balance["livemode"] is False


@needs("DOCG_LIVE_AI_KEY", "DOCG_LIVE_AI_BASE_URL")
def test_ai_provider_answers_with_the_requested_json_schema():
    from docg.providers.ai.client import AiClient

    client = AiClient(
        base_url=env("DOCG_LIVE_AI_BASE_URL"), api_key=env("DOCG_LIVE_AI_KEY"), correlation_id=str(uuid.uuid4())
    )
    schema = {
        "type": "object",
        "properties": {"customer": {"type": "string"}},
        "required": ["customer"],
        "additionalProperties": False,
    }
    messages = [
        {"role": "system", "content": "Extract the customer's full name."},
        {"role": "user", "content": "Service agreement between Acme Ltda and the customer Ana Souza."},
    ]
    answer = client.chat_completion(messages, schema, env("DOCG_LIVE_AI_MODEL", "gpt-4o-mini"), timeout=60)
    assert "Ana Souza" in answer["customer"]
