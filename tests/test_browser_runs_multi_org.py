"""The runs list of a user in several organizations is live for the organization they are looking at.

EventSource cannot send X-Organization-ID, so the page names its organization in the
stream URL (`?organization=`); before, such users fell back to polling every 15 s.
"""

import pytest
from playwright.sync_api import expect

from docg.executions.engine import execution_start
from docg.executions.tests.builders import PREPARE, action, active_workflow
from docg.orgs.choices import Role
from docg.orgs.services import membership_add
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FINISH = action("finish", "set_variables", label="Mark as sent", parameters={"variables": {"done": True}})


def test_a_user_of_two_organizations_sees_only_the_current_ones_runs_live(cast, browser, dashboard_server, worker):
    membership_add(organization=cast.globex, user=cast.alice, role=Role.MEMBER)
    acme_flow = active_workflow(cast, PREPARE, FINISH, name="Acme onboarding")
    globex_flow = active_workflow(cast, PREPARE, FINISH, organization=cast.globex, name="Globex onboarding")

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/executions/")
    root = page.locator("[data-org-stream]")
    expect(root).to_have_attribute("data-live", "on")
    assert root.get_attribute("data-organization") == str(cast.acme.pk)
    page.evaluate("window.__sameDocument = true")

    globex_run = execution_start(workflow=globex_flow, trigger_data={"customer": "Gil"}, by=cast.charlie)
    acme_run = execution_start(workflow=acme_flow, trigger_data={"customer": "Ana"}, by=cast.alice)
    row = page.locator(f'tr[data-execution-id="{acme_run.pk}"]')
    expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(row.locator("[data-run-status]")).to_have_attribute("data-run-status", "completed", timeout=30000)
    expect(page.locator(f'tr[data-execution-id="{globex_run.pk}"]')).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")
    expect(root).to_have_attribute("data-live", "on")  # never fell back to polling

    # Switching organization: the list follows Globex's stream instead.
    page.select_option("#org-switch", str(cast.globex.pk))
    page.wait_for_url(f"{dashboard_server.url}/executions/**")
    root = page.locator("[data-org-stream]")
    expect(root).to_have_attribute("data-organization", str(cast.globex.pk))
    expect(root).to_have_attribute("data-live", "on")
    page.evaluate("window.__sameDocument = true")
    second = execution_start(workflow=globex_flow, trigger_data={"customer": "Gia"}, by=cast.charlie)
    expect(page.locator(f'tr[data-execution-id="{second.pk}"]')).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator(f'tr[data-execution-id="{acme_run.pk}"]')).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")
    screenshot(page, "executions-list-second-organization")
