"""The template syntax reference in a real browser (Debian's chromium via Playwright): found from the templates
page, an entry read in English, then in Portuguese after the language switcher."""

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_alice_finds_the_currency_filter_and_reads_its_example_in_both_languages(cast, browser, dashboard_server):
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/templates/")
    page.get_by_role("link", name="Template syntax: every tag, filter and function").click()
    page.wait_for_url("**/templates/syntax/")
    expect(page.get_by_role("heading", name="Template syntax", level=1)).to_be_visible()

    page.get_by_role("navigation", name="Contents").get_by_role("link", name="currency", exact=True).click()
    entry = page.locator("[data-syntax-entry='currency']")
    expect(entry).to_be_in_viewport()
    expect(entry.locator("[data-example-template]")).to_have_text("Total {{ total|currency('USD', 'en') }}")
    expect(entry.locator("[data-example-result]")).to_have_text("Total $1,234.50")
    screenshot(page, "template-syntax")

    page.select_option("#lang-switch", "pt-br")
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    entry = page.locator("[data-syntax-entry='currency']")
    expect(entry.locator("[data-example-template]")).to_have_text("Total {{ total|currency('BRL') }}")
    expect(entry.locator("[data-example-result]")).to_have_text("Total R$ 1.234,50")
    expect(page.locator("[data-syntax-entry='include(name)'] [data-example-template]")).to_have_text(
        '{{p include("Cláusula de sigilo") }}'
    )
    page.close()
