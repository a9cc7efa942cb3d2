"""Teams and API keys in chromium: invite, accept (new account, existing user of another organization),
an expired and a reused link, roles and removal (never the last owner), a new organization, API keys."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from docg.orgs.members import invitation_create
from docg.orgs.models import ApiKey, Invitation, Membership
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot
from tests.fixtures.cast import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def acme_invites(cast, email: str, role: str = "member") -> str:
    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    return invitation_create(organization=cast.acme, by=owner, email=email, role=role)[1]


def anonymous_page(browser):
    page = browser.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    return page


def test_invitations_in_the_browser(cast, browser, dashboard_server):
    base = dashboard_server.url
    owner = logged_in_page(browser, base, "alice@example.com", next_path="/members/")
    owner.fill("#id_email", "dora@example.com")
    owner.select_option("#id_role", "admin")
    owner.click("form[data-invite-form] button[type=submit]")
    expect(owner.locator('tr[data-invitation="dora@example.com"]')).to_have_attribute("data-status", "pending")
    assert Invitation.objects.get(email="dora@example.com").role == "admin"
    screenshot(owner, "members-with-invitation")

    # A new person: the link creates the account and opens Acme's dashboard.
    token = acme_invites(cast, "erin@example.com")
    erin = anonymous_page(browser)
    erin.goto(f"{base}/invitations/{token}/")
    expect(erin.locator("h1")).to_contain_text("Acme")
    erin.fill("#id_name", "Erin")
    erin.fill("#id_password", PASSWORD)
    erin.click("form[data-accept-form] button[type=submit]")
    erin.wait_for_url(f"{base}/")
    expect(erin.locator(".org-name")).to_have_text("Acme")
    assert Membership.objects.get(user__email="erin@example.com").role == "member"

    # The same link again: used once only.
    again = anonymous_page(browser)
    again.goto(f"{base}/invitations/{token}/")
    expect(again.locator("[data-invitation-error]")).to_have_attribute("data-invitation-error", "invitation_used")

    # An expired link.
    expired = acme_invites(cast, "fred@example.com")
    Invitation.objects.filter(email="fred@example.com").update(expires_at=timezone.now() - timedelta(minutes=1))
    fred = anonymous_page(browser)
    fred.goto(f"{base}/invitations/{expired}/")
    expect(fred.locator("[data-invitation-error]")).to_have_attribute("data-invitation-error", "invitation_expired")
    screenshot(fred, "invitation-expired")

    # An invitation to Globex's owner: refused to someone else signed in, accepted by charlie himself.
    for_charlie = acme_invites(cast, "charlie@example.com", "viewer")
    bob = logged_in_page(browser, base, "bob@example.com")
    bob.goto(f"{base}/invitations/{for_charlie}/")
    expect(bob.locator("[data-invitation-error]")).to_have_attribute("data-invitation-error", "invitation_other_email")
    expect(bob.locator("form[data-accept-form]")).to_have_count(0)
    charlie = logged_in_page(browser, base, "charlie@example.com")
    charlie.goto(f"{base}/invitations/{for_charlie}/")
    charlie.click("form[data-accept-form] button[type=submit]")
    charlie.wait_for_url(f"{base}/")
    expect(charlie.locator("#org-switch option:checked")).to_have_text("Acme")
    expect(charlie.locator("#org-switch option")).to_have_count(2)
    assert Membership.objects.get(organization=cast.acme, user=cast.charlie).role == "viewer"


def test_members_roles_organizations_and_api_keys_in_the_browser(cast, browser, dashboard_server):
    base = dashboard_server.url
    page = logged_in_page(browser, base, "alice@example.com", next_path="/members/")
    page.on("dialog", lambda dialog: dialog.accept())

    bob_row = page.locator('tr[data-member="bob@example.com"]')
    bob_row.locator("select").select_option("admin")
    bob_row.locator("[data-action=change-role]").click()
    expect(page.locator('tr[data-member="bob@example.com"]')).to_have_attribute("data-role", "admin")

    page.locator('tr[data-member="vera@example.com"] [data-action=remove-member]').click()
    expect(page.locator('tr[data-member="vera@example.com"]')).to_have_count(0)

    # The last owner cannot leave.
    page.locator('tr[data-member="alice@example.com"] [data-action=remove-member]').click()
    expect(page.locator(".messages .message.error")).to_contain_text("needs an owner")
    assert Membership.objects.filter(organization=cast.acme, user=cast.alice).exists()

    # API keys: shown once, then only the prefix; revoked with one click.
    page.goto(f"{base}/api-keys/")
    page.fill("#id_name", "Zapier")
    page.click("form[data-api-key-form] button[type=submit]")
    key = page.locator("[data-new-key]").inner_text()
    stored = ApiKey.objects.get(name="Zapier")
    assert key.startswith(f"{stored.prefix}.")
    page.goto(f"{base}/api-keys/")
    expect(page.locator("[data-new-key]")).to_have_count(0)
    assert key not in page.content()
    page.locator('tr[data-api-key="Zapier"] [data-action=revoke-key]').click()
    expect(page.locator('tr[data-api-key="Zapier"]')).to_have_attribute("data-status", "revoked")

    # Another organization, owned by alice, becomes the current one.
    page.goto(f"{base}/organizations/new/")
    page.fill("#id_name", "Acme Labs")
    page.click("form[data-organization-form] button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("#org-switch option:checked")).to_have_text("Acme Labs")
    page.goto(f"{base}/members/")
    expect(page.locator("tr[data-member]")).to_have_count(1)
    page.select_option("#org-switch", str(cast.acme.pk))
    page.wait_for_url(f"{base}/members/**")
    expect(page.locator('tr[data-member="bob@example.com"]')).to_be_visible()
    screenshot(page, "members")
