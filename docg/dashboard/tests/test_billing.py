"""The billing page: plan and usage for every member; Stripe buttons for owners and admins only."""

import pytest

from docg.executions.engine import execution_start
from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.models import Organization
from docg.providers.stripe.tests.fake import API_KEY, PRICES, WEBHOOK_SECRET, stripe_api  # noqa: F401
from tests.fixtures.browser import logged_in_page, screenshot
from tests.fixtures.processes import LiveServer


def _page(client, user, path="/billing/"):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_members_see_plan_and_usage_and_only_managers_get_buttons(client, cast, stripe_api):  # noqa: F811
    workflow = active_workflow(cast, PREPARE)
    for n in range(3):
        execution_start(workflow=workflow, trigger_data={"n": n}, by=cast.alice)
    owner = _page(client, cast.alice)
    assert 'data-billing-plan="free"' in owner and "3 of 100 workflow runs used." in owner
    assert 'data-checkout="pro"' in owner and 'data-checkout="business"' in owner
    for user in (cast.vera, cast.bob):
        page = _page(client, user)
        assert "3 of 100 workflow runs used." in page
        assert (
            "data-checkout" not in page
            and "data-billing-portal" not in page
            and "<button" not in page.split("<main")[1]
        )
        assert "Only the organization's owners and admins can change the plan." in page
    # Another organization's page shows its own usage.
    assert "0 of 100 workflow runs used." in _page(client, cast.charlie)


@pytest.mark.django_db
def test_upgrade_redirects_the_owner_to_stripe_checkout(client, cast, stripe_api):  # noqa: F811
    client.force_login(cast.alice)
    response = client.post("/billing/checkout/", {"plan": "pro"})
    assert response.status_code == 302
    assert response["Location"] == stripe_api.created["/v1/checkout/sessions"][0]["url"]
    assert stripe_api.posts("/v1/checkout/sessions")[0].form["line_items[0][price]"] == PRICES["pro"]


@pytest.mark.django_db
def test_viewers_and_members_cannot_open_stripe_sessions(client, cast, stripe_api):  # noqa: F811
    Organization.objects.filter(pk=cast.acme.pk).update(stripe_customer_id="cus_Acme")
    for user in (cast.vera, cast.bob):
        client.force_login(user)
        assert client.post("/billing/checkout/", {"plan": "pro"}).status_code == 404
        assert client.post("/billing/portal/").status_code == 404
    assert stripe_api.requests == []


@pytest.mark.django_db
def test_a_subscriber_manages_the_plan_in_the_portal(client, cast, stripe_api):  # noqa: F811
    Organization.objects.filter(pk=cast.acme.pk).update(
        plan="pro", stripe_customer_id="cus_Acme", stripe_subscription_id="sub_A", subscription_status="past_due"
    )
    page = _page(client, cast.alice)
    assert 'data-billing-plan="pro"' in page and "5000" in page
    assert "The last payment failed" in page
    assert "data-billing-portal" in page and "data-checkout" not in page  # no second subscription
    response = client.post("/billing/portal/")
    assert response.status_code == 302
    assert response["Location"] == stripe_api.created["/v1/billing_portal/sessions"][0]["url"]


@pytest.mark.django_db
def test_a_stripe_failure_comes_back_as_a_message_not_an_error_page(client, cast, stripe_api):  # noqa: F811
    stripe_api.fail_next(500)
    client.force_login(cast.alice)
    response = client.post("/billing/checkout/", {"plan": "pro"}, follow=True)
    assert response.status_code == 200
    assert "Could not open the checkout" in response.content.decode()


@pytest.mark.django_db
def test_the_limit_reached_and_the_return_from_checkout_are_explained(client, cast, settings):
    settings.BILLING_PLAN_LIMITS = {**settings.BILLING_PLAN_LIMITS, "free": {"monthly_executions": 1}}
    execution_start(workflow=active_workflow(cast, PREPARE), trigger_data={}, by=cast.alice)
    page = _page(client, cast.alice, "/billing/?checkout=success")
    assert "data-at-limit" in page and 'data-checkout-returned="success"' in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_owner_upgrades_and_the_viewer_sees_no_buttons(browser, cast, stripe_api):  # noqa: F811
    server = LiveServer(
        STRIPE_SECRET_KEY=API_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_PRICE_PRO=PRICES["pro"],
        STRIPE_PRICE_BUSINESS=PRICES["business"],
        DOCG_API_ROOT_STRIPE=stripe_api.url,
        FRONTEND_URL="http://127.0.0.1",
    )
    try:
        viewer = logged_in_page(browser, server.url, "vera@example.com", next_path="/billing/")
        viewer.get_by_role("heading", name="Usage this month").wait_for()
        assert viewer.locator("[data-checkout], [data-billing-portal]").count() == 0
        screenshot(viewer, "billing-viewer")

        page = logged_in_page(browser, server.url, "alice@example.com", next_path="/billing/")
        page.get_by_role("link", name="Billing").wait_for()
        screenshot(page, "billing-owner")
        # Stripe's hosted page is out of reach: answer for it, as the browser would land there.
        page.route("https://checkout.stripe.com/**", lambda route: route.fulfill(body="<h1>Stripe Checkout</h1>"))
        page.get_by_role("button", name="Upgrade to Pro").click()
        page.wait_for_url("https://checkout.stripe.com/c/pay/**")
        assert page.get_by_role("heading", name="Stripe Checkout").is_visible()
        [session] = stripe_api.posts("/v1/checkout/sessions")
        assert session.form["line_items[0][price]"] == PRICES["pro"]
        assert session.form["metadata[organization_id]"] == str(cast.acme.pk)
    finally:
        server.stop()
