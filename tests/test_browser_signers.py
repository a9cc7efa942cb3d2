"""A real browser (chromium) on a run waiting for signatures: the signers panel follows ClickSign's webhooks live."""

import pytest

from docg.providers.clicksign.tests.fake import clicksign_api  # noqa: F401 (the fake ClickSign API)
from docg.providers.clicksign.tests.helpers import event, hook
from docg.providers.clicksign.tests.test_following import _signing
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ANA = '[data-signer="ana@client.example"]'
BRUNO = '[data-signer="bruno@client.example"]'


@pytest.mark.usefixtures("clicksign_api")
def test_the_signers_panel_updates_live_when_the_provider_reports_a_signature(cast, browser, dashboard_server):
    conn, execution, document_key, (ana, bruno) = _signing(cast)
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path=f"/executions/{execution.pk}/")
    page.wait_for_selector(f'{ANA}[data-signer-status="pending"]')
    page.wait_for_selector(f'{BRUNO}[data-signer-status="pending"]')

    # Ana opens the document: signature.viewed reaches the page over SSE, the panel says so.
    assert hook(conn, event("signature_started", document_key, signer={"key": ana.external_id})).status_code == 200
    page.wait_for_selector(f'{ANA}[data-signer-status="viewed"]', timeout=UI_TIMEOUT_MS)
    assert page.inner_text(ANA).count("Viewed") == 1

    # The fake provider's webhook arrives: signature.signed reaches the page over SSE, the panel is redrawn.
    assert hook(conn, event("sign", document_key, signer={"key": ana.external_id})).status_code == 200
    page.wait_for_selector(f'{ANA}[data-signer-status="signed"]', timeout=UI_TIMEOUT_MS)
    assert page.get_attribute(BRUNO, "data-signer-status") == "pending"

    assert hook(conn, event("refusal", document_key, signer={"key": bruno.external_id})).status_code == 200
    page.wait_for_selector(f'{BRUNO}[data-signer-status="declined"]', timeout=UI_TIMEOUT_MS)
    page.wait_for_selector('[data-envelope-status="declined"]', timeout=UI_TIMEOUT_MS)
    screenshot(page, "signers-panel")
